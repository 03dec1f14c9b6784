"""`leadwire flows ...`: help everywhere, and a template's life: install, edit, publish, dry run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from leadwire.cli.flows import app
from leadwire.engine.flows import flow_json_schema_text, load_flow, template_text
from leadwire.engine.planning.samples import SAMPLE_LEAD
from leadwire.settings import Settings
from tests.conftest import make_settings

runner = CliRunner()
COMMANDS = [
    "schema",
    "validate",
    "templates",
    "install-template",
    "list",
    "show",
    "save",
    "publish",
    "webhook-secret",
    "dry-run",
    "connect",
]


@pytest.mark.parametrize("args", [["--help"], *([name, "--help"] for name in COMMANDS)])
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


def run(settings: Settings, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, list(args), obj=settings, env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def test_schema_prints_or_writes_the_published_schema(settings: Settings, tmp_path: Path) -> None:
    assert run(settings, "schema") == flow_json_schema_text()
    target = tmp_path / "flow.schema.json"
    run(settings, "schema", "--output", str(target))
    assert target.read_text(encoding="utf-8") == flow_json_schema_text()


def test_validate_says_valid_or_lists_problems_with_lines(
    settings: Settings, tmp_path: Path
) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(template_text("lead-tags"), encoding="utf-8")
    assert "valid flow 'Pinterest lead tags'" in run(settings, "validate", str(good))
    bad = tmp_path / "bad.yaml"
    bad.write_text(template_text("lead-tags").replace("| slug |", "| slg |"), encoding="utf-8")
    output = run(settings, "validate", str(bad), code=1)
    assert "the flow has 3 problems" in output
    assert "line 35: steps[1].tags[1]: there is no formatter 'slg'" in output
    assert "line 37: steps[1].tags[3]: there is no formatter 'slg'" in output
    missing = run(settings, "validate", str(tmp_path / "nope.yaml"), code=2)
    assert "cannot read" in missing


def test_a_template_installed_edited_published_and_dry_run(
    settings: Settings, tmp_path: Path
) -> None:
    assert "lead-follow-up" in run(settings, "templates")
    output = run(settings, "install-template", "lead-follow-up", "--name", "Follow-up")
    assert "created draft flow 'Follow-up'" in output
    assert "Follow-up" in run(settings, "list")
    refused = run(settings, "dry-run", "Follow-up", "--sample", code=1)
    assert "has no published version: publish it or use --draft" in refused

    draft = tmp_path / "draft.yaml"
    draft.write_text(run(settings, "show", "Follow-up"), encoding="utf-8")
    data = yaml.safe_load(draft.read_text(encoding="utf-8"))
    data["steps"][1]["title"] = "Phone {{ contact.firstName }} today"
    draft.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    assert "saved the draft of 'Follow-up'" in run(settings, "save", "Follow-up", str(draft))
    assert "version 1 is published" in run(settings, "publish", "Follow-up")
    assert load_flow(run(settings, "show", "Follow-up", "--version", "1")).steps[1].title == (
        "Phone {{ contact.firstName }} today"
    )

    plan = json.loads(
        run(
            settings,
            "dry-run",
            "Follow-up",
            "--sample",
            "--json",
            "--location-id",
            "LOC",
            "--now",
            "2026-03-02T20:00:00+00:00",
        )
    )
    assert plan["outcome"] == "complete"
    assert plan["version"] == 1
    assert plan["planned_at"] == "2026-03-02T20:00:00Z"
    calls = [(a["operation_id"], a["path"]) for a in plan["actions"]]
    assert calls == [
        ("upsert-contact", "/contacts/upsert"),
        ("create-task", "/contacts/{contact_id}/tasks"),
        ("create-note", "/contacts/{contact_id}/notes"),
    ]
    assert plan["actions"][0]["body"]["locationId"] == "LOC"
    assert plan["actions"][1]["body"]["title"] == "Phone Ada today"

    table = run(settings, "dry-run", "Follow-up", "--sample")
    assert "upsert-contact" in table
    assert "outcome: complete" in table
    assert "nothing was sent" in table

    lead_file = tmp_path / "lead.json"
    lead = {
        **SAMPLE_LEAD,
        "answers": [
            a for a in SAMPLE_LEAD["answers"] if a["question_type"] not in ("EMAIL", "PHONE_NUMBER")
        ],
    }
    lead_file.write_text(json.dumps(lead), encoding="utf-8")
    stopped = run(settings, "dry-run", "Follow-up", "--lead-file", str(lead_file), "--draft")
    assert "outcome: stopped: mapping email, phone: neither gave a usable value" in stopped

    assert len(run(settings, "webhook-secret", "Follow-up").strip()) >= 40


def test_bad_input_is_refused_with_a_reason(settings: Settings, tmp_path: Path) -> None:
    unknown = run(settings, "install-template", "no-such-thing", code=1)
    assert "there is no template 'no-such-thing'; templates: lead-follow-up" in unknown
    assert "no flow with id or name 'ghost'" in run(settings, "publish", "ghost", code=1)
    run(settings, "install-template", "lead-tags")
    both = run(settings, "dry-run", "Pinterest lead tags", "--draft", code=2)
    assert "give --lead-file FILE or --sample" in both
    broken = tmp_path / "lead.json"
    broken.write_text('{"lead_id": "x1"}', encoding="utf-8")
    output = run(
        settings, "dry-run", "Pinterest lead tags", "--draft", "--lead-file", str(broken), code=2
    )
    assert "lead_id: String should match pattern" in output
