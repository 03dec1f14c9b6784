"""`leadwire sandbox ...`: help everywhere, app creation, the demo world."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from leadwire.cli.sandbox import app
from leadwire.sandbox.models import App
from leadwire.sandbox.oauth import resolve
from leadwire.sandbox.store import open_store
from tests.sandbox.conftest import sandbox_settings

runner = CliRunner()


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["serve", "--help"],
        ["app", "--help"],
        ["app", "create", "--help"],
        ["demo", "--help"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def _fields(output: str) -> dict[str, str]:
    """Return the `label   value` lines of the demo's output (labels are 17 wide)."""
    return {line[:17].strip(): line[17:].strip() for line in output.splitlines()}


def test_demo_prints_ids_and_a_working_token(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    first = runner.invoke(app, ["demo"], obj=settings)
    assert first.exit_code == 0, first.output
    values = _fields(first.output)
    assert values["ad account id"].isdigit()
    assert first.output.count("lead form id") == 2
    token = values["access token"]
    store = open_store(settings)
    with store.read_sessions() as session:
        caller = resolve(session, token)
    assert caller.scopes == {"ads:read", "ads:write"}
    second = runner.invoke(app, ["demo"], obj=settings)
    again = _fields(second.output)
    assert again["ad account id"] == values["ad account id"]
    assert again["access token"] != token
    store.engine.dispose()


def test_app_create_prints_the_secret_once(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    result = runner.invoke(
        app,
        ["app", "create", "My CRM sync", "--redirect-uri", "http://127.0.0.1:8000/cb"],
        obj=settings,
    )
    assert result.exit_code == 0, result.output
    client_line, secret = result.output.strip().splitlines()
    client_id = client_line.split()[2].rstrip(";")
    store = open_store(settings)
    with store.read_sessions() as session:
        stored = session.get(App, client_id)
        assert stored is not None
        assert stored.redirect_uris == ["http://127.0.0.1:8000/cb"]
        assert secret.encode() not in stored.secret_hash
    store.engine.dispose()
    bad = runner.invoke(app, ["app", "create", "x", "--owner", "nobody"], obj=settings)
    assert bad.exit_code != 0
