"""`leadwire runs`, `leadwire inbox` and `leadwire hooks` through Typer, on both backends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer import Typer
from typer.testing import CliRunner

from leadwire.cli import hooks, inbox, runs
from leadwire.connectors.pinterest.envelope import encode_delivery
from leadwire.settings import Settings
from tests.web.conftest import Web, end_run, make_lead, new_key

runner = CliRunner()


def run(app: Typer, settings: Settings, *args: str, code: int = 0, **env: str) -> str:
    result = runner.invoke(app, list(args), obj=settings, env={"COLUMNS": "250", **env})
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.parametrize(
    ("app", "commands"),
    [
        (runs.app, ["list", "show"]),
        (inbox.app, ["list", "replay", "dismiss"]),
        (hooks.app, ["add", "list", "remove"]),
    ],
)
def test_every_command_has_help(app: Typer, commands: list[str]) -> None:
    for args in (["--help"], *([name, "--help"] for name in commands)):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert "Usage" in result.output


@pytest.fixture
def landed(web: Web) -> tuple[str, str, str]:
    """Two leads through one flow: the first succeeded, the second needs attention."""
    web.add_crm()
    flow_id = web.add_flow(name="contacts")
    ok, bad = make_lead(), make_lead("Bad.Lead@example.com")
    assert web.deliver([ok, bad]).json()["accepted"] == 2
    ok_run, bad_run = (f"lead:{lead.lead_id}:{flow_id}:v1" for lead in (ok, bad))
    end_run(web, ok_run, fail=False)
    end_run(web, bad_run, fail=True)
    return flow_id, ok_run, bad_run


def test_runs_list_filters_and_pages(web: Web, landed: tuple[str, str, str]) -> None:
    _flow_id, ok_run, bad_run = landed
    listed = run(runs.app, web.settings, "list")
    assert ok_run in listed
    assert bad_run in listed
    only_bad = run(runs.app, web.settings, "list", "--status", "needs_attention")
    assert bad_run in only_bad
    assert ok_run not in only_bad
    by_email = run(runs.app, web.settings, "list", "--email", "BAD.lead@example.com")
    assert bad_run in by_email
    assert ok_run not in by_email
    by_flow_name = json.loads(run(runs.app, web.settings, "list", "--flow", "contacts", "--json"))
    assert {r["run_id"] for r in by_flow_name["runs"]} == {ok_run, bad_run}
    first = json.loads(run(runs.app, web.settings, "list", "--limit", "1", "--json"))
    assert first["next_cursor"]
    assert "--cursor" in run(runs.app, web.settings, "list", "--limit", "1")
    second = json.loads(
        run(
            runs.app,
            web.settings,
            "list",
            "--limit",
            "1",
            "--cursor",
            first["next_cursor"],
            "--json",
        )
    )
    assert {first["runs"][0]["run_id"], second["runs"][0]["run_id"]} == {ok_run, bad_run}
    assert second["next_cursor"] is None
    bad_cursor = run(runs.app, web.settings, "list", "--cursor", "zzz", code=2)
    assert "cursor" in bad_cursor
    assert "no runs match" in run(runs.app, web.settings, "list", "--lead-id", "404")


def test_runs_show_prints_the_timeline(web: Web, landed: tuple[str, str, str]) -> None:
    _, _, bad_run = landed
    shown = run(runs.app, web.settings, "show", bad_run)
    for text in (
        bad_run,
        "needs_attention",
        "received",
        "POST /contacts/upsert → created",
        "contact_id=ct_1",
        "BadRequestError: tag is too long",
        "Bad.Lead@example.com",  # the lead as received
        f"leadwire inbox replay {bad_run}",
    ):
        assert text in shown, text
    as_json = json.loads(run(runs.app, web.settings, "show", bad_run, "--json"))
    api = web.api.get(f"/api/runs/{bad_run}").json()
    assert as_json == api
    assert "no run" in run(runs.app, web.settings, "show", "lead:1:x:v1", code=1)


def test_inbox_list_replay_and_dismiss(web: Web, landed: tuple[str, str, str]) -> None:
    flow_id, ok_run, bad_run = landed
    assert bad_run in run(inbox.app, web.settings, "list")
    assert run(inbox.app, web.settings, "replay", code=2)  # neither RUN_ID nor --all
    assert "goes with --all" in run(
        inbox.app, web.settings, "replay", bad_run, "--flow", "x", code=2
    )
    replayed = run(inbox.app, web.settings, "replay", bad_run)
    assert f"{bad_run}/replay1" in replayed
    assert "is replayed, not open" in run(inbox.app, web.settings, "replay", bad_run, code=1)
    assert "no open inbox items" in run(inbox.app, web.settings, "list")
    assert "replayed" in run(inbox.app, web.settings, "list", "--status", "all")
    assert "has no inbox item" in run(inbox.app, web.settings, "dismiss", ok_run, code=1)

    again = make_lead("again@example.com")
    web.deliver([again])
    again_run = f"lead:{again.lead_id}:{flow_id}:v1"
    end_run(web, again_run, fail=True)
    other = make_lead("other@example.com")
    web.deliver([other])
    other_run = f"lead:{other.lead_id}:{flow_id}:v1"
    end_run(web, other_run, fail=True)
    assert run(inbox.app, web.settings, "dismiss", other_run) == f"dismissed {other_run}\n"
    bulk = run(inbox.app, web.settings, "replay", "--all", "--flow", "contacts")
    assert "replaying 1 run(s); 0 still open" in bulk
    items = json.loads(run(inbox.app, web.settings, "list", "--status", "all", "--json"))
    assert {(i["run_id"], i["status"]) for i in items["items"]} == {
        (bad_run, "replayed"),
        (again_run, "replayed"),
        (other_run, "dismissed"),
    }


def test_hooks_add_list_remove(web: Web, tmp_path: Path) -> None:
    key_file = tmp_path / "key.txt"
    key_file.write_text(new_key() + "\n")
    added = run(hooks.app, web.settings, "add", "second", "--delivery-key-file", str(key_file))
    url = added.strip().splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{web.settings.engine_port}/hooks/pinterest/")
    secret = url.rsplit("/", 1)[1]

    # The printed URL works: a delivery encrypted with that key lands.
    web.add_crm()
    web.add_flow()
    lead = make_lead()
    answer = web.post_raw(encode_delivery([lead], key_file.read_text().strip()), secret)
    assert answer.status_code == 200, answer.text

    from_env = run(
        hooks.app, web.settings, "add", "third", "--delivery-key-env", "PIN_KEY", PIN_KEY=new_key()
    )
    assert "/hooks/pinterest/" in from_env
    listed = run(hooks.app, web.settings, "list")
    assert "second" in listed
    assert "third" in listed
    assert "pins" in listed
    assert secret not in listed

    assert "exists already" in run(
        hooks.app, web.settings, "add", "second", "--delivery-key-file", str(key_file), code=2
    )
    key_file.write_text("not base64!")
    assert "not valid base64" in run(
        hooks.app, web.settings, "add", "fourth", "--delivery-key-file", str(key_file), code=2
    )
    assert "exactly one" in run(hooks.app, web.settings, "add", "fifth", code=2)
    assert "no connection" in run(
        hooks.app,
        web.settings,
        "add",
        "sixth",
        "--delivery-key-env",
        "PIN_KEY",
        "--pinterest",
        "nope",
        code=2,
        PIN_KEY=new_key(),
    )
    crm = web.add_crm("the-crm")
    assert "not Pinterest" in run(
        hooks.app,
        web.settings,
        "add",
        "seventh",
        "--delivery-key-env",
        "PIN_KEY",
        "--pinterest",
        crm,
        code=2,
        PIN_KEY=new_key(),
    )

    assert "removed hook second" in run(hooks.app, web.settings, "remove", "second")
    assert web.post_raw(b"[]", secret).status_code == 404
    assert "no hook" in run(hooks.app, web.settings, "remove", "second", code=2)


def test_hook_urls_use_the_public_url_when_set(web: Web, tmp_path: Path) -> None:
    settings = web.settings.model_copy(update={"engine_public_url": "https://leads.example.org/"})
    key_file = tmp_path / "key.txt"
    key_file.write_text(new_key())
    added = run(hooks.app, settings, "add", "public", "--delivery-key-file", str(key_file))
    assert added.strip().splitlines()[-1].startswith("https://leads.example.org/hooks/pinterest/")
