"""`leadwire connections ...` against the real embedded CRM and the real sandbox, over HTTP."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import SecretStr
from sqlalchemy import update
from typer.testing import CliRunner

from leadwire.cli.connections import API_KEY_ENV, CONTACTS_SECRET_ENV
from leadwire.cli.connections import app as connections_cli
from leadwire.engine.connections import (
    ConnectionSecrets,
    ConnectionStatus,
    ContactsConfig,
    Tokens,
    add_connection,
    check_connection,
    load_connection,
    load_credentials,
    token_saver,
)
from leadwire.engine.secrets import open_keyring
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from leadwire.store.models.connections import ConnectionRow
from tests.crm.conftest import CrmServer, crm_postgres, crm_sqlite
from tests.crm.conftest import new_tenant as new_crm_tenant
from tests.crm.test_oauth import register
from tests.crm.test_oauth import tokens as crm_oauth_tokens
from tests.sandbox.conftest import SandboxServer, sandbox_postgres, sandbox_sqlite
from tests.sandbox.conftest import new_tenant as new_sandbox_tenant

__all__ = ["crm_postgres", "crm_sqlite", "sandbox_postgres", "sandbox_sqlite"]

runner = CliRunner()
PAST = datetime(2020, 1, 1, tzinfo=UTC)


@pytest.fixture
def crm(backend: str, request: pytest.FixtureRequest) -> CrmServer:
    server: CrmServer = request.getfixturevalue(f"crm_{backend}")
    return server


@pytest.fixture
def sandbox(backend: str, request: pytest.FixtureRequest) -> SandboxServer:
    server: SandboxServer = request.getfixturevalue(f"sandbox_{backend}")
    return server


def _run(settings: Settings, *args: str, **kwargs: object) -> str:
    result = runner.invoke(connections_cli, list(args), obj=settings, **kwargs)  # type: ignore[arg-type]
    assert result.exit_code == 0, result.output
    return result.output


def _fail(settings: Settings, *args: str, **kwargs: object) -> str:
    result = runner.invoke(connections_cli, list(args), obj=settings, **kwargs)  # type: ignore[arg-type]
    assert result.exit_code != 0, result.output
    return result.output


def _expire(store: AppStore, name: str) -> None:
    with store.sessions() as session:
        session.execute(
            update(ConnectionRow).where(ConnectionRow.name == name).values(access_expires_at=PAST)
        )
        session.commit()


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["add-contacts", "--help"],
        ["add-pinterest", "--help"],
        ["list", "--help"],
        ["test", "--help"],
        ["remove", "--help"],
    ],
)
def test_every_command_has_help(args: list[str]) -> None:
    result = runner.invoke(connections_cli, args)
    assert result.exit_code == 0, result.output
    assert "Usage" in result.output


def test_contacts_connection_against_the_crm(
    app_settings: Settings, app_store: AppStore, crm: CrmServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tenant = new_crm_tenant(crm)
    common = ["--base-url", crm.url, "--location", tenant.location_id]
    out = _fail(app_settings, "add-contacts", "argv", *common, "--api-key", tenant.key)
    assert "never pass a secret on the command line" in out
    assert tenant.key not in out
    _run(app_settings, "add-contacts", "crm", *common, env={API_KEY_ENV: tenant.key})
    extra = ["--scope", "contacts.write", "--scope", "opportunities.write"]
    _run(
        app_settings, "add-contacts", "typo", *common, *extra, "--no-bulk-tags", input="pit-wrong\n"
    )
    assert [c.name for c in _list(app_store)] == ["crm", "typo"]
    bulk = {n: load_connection(app_store, n).config for n in ("crm", "typo")}
    assert {n: getattr(c, "bulk_tags", None) for n, c in bulk.items()} == {
        "crm": True,
        "typo": False,
    }
    assert "ok: location" in _run(app_settings, "test", "crm")
    out = _fail(app_settings, "test", "typo")
    assert "failing since" in out
    assert "HTTP 401" in out
    crm_ok, typo = load_connection(app_store, "crm"), load_connection(app_store, "typo")
    assert crm_ok.status is ConnectionStatus.OK
    assert crm_ok.last_ok_at is not None
    assert typo.status is ConnectionStatus.FAILING
    assert typo.failing_since is not None
    assert typo.last_error is not None
    assert "AuthError" in typo.last_error
    listing = _run(app_settings, "list")
    assert "failing" in listing
    assert "WARNING: connection 'typo' holds scopes its flows do not need: opportunities.write" in (
        " ".join(listing.split())
    )
    assert "WARNING: connection 'crm'" not in listing
    assert tenant.key not in listing
    assert "pit-wrong" not in listing
    assert "connections.failing" in caplog.text
    assert tenant.key not in caplog.text
    assert "pit-wrong" not in caplog.text
    _run(app_settings, "remove", "typo")
    assert [c.name for c in _list(app_store)] == ["crm"]
    assert "no connection" in _fail(app_settings, "test", "typo")


def _list(store: AppStore) -> list[ConnectionRow]:
    with store.read_sessions() as session:
        return list(session.query(ConnectionRow).order_by(ConnectionRow.name))


def test_contacts_oauth_connection_refreshes(
    app_settings: Settings, app_store: AppStore, crm: CrmServer, tmp_path: Path
) -> None:
    tenant = new_crm_tenant(crm)
    oauth_app = register(tenant)
    answer = crm_oauth_tokens(oauth_app)
    tokens_file = tmp_path / "tokens.json"
    tokens_file.write_text(json.dumps(answer))
    _run(
        app_settings,
        "add-contacts",
        "crm-oauth",
        "--base-url",
        crm.url,
        "--location",
        tenant.location_id,
        "--oauth-tokens",
        str(tokens_file),
        "--client-id",
        oauth_app.id,
        env={CONTACTS_SECRET_ENV: oauth_app.secret},
    )
    ring = open_keyring(app_settings)
    assert load_connection(app_store, "crm-oauth").scopes == {"contacts.readonly", "contacts.write"}
    _run(app_settings, "test", "crm-oauth")
    _expire(app_store, "crm-oauth")
    assert "ok" in _run(app_settings, "test", "crm-oauth")
    after = load_credentials(app_store, ring, "crm-oauth")
    assert after.secrets.access_token != answer["access_token"]
    assert after.secrets.refresh_token != answer["refresh_token"]
    assert after.connection.access_expires_at is not None
    assert after.connection.access_expires_at > datetime.now(UTC)


def _sandbox_settings(settings: Settings, sandbox: SandboxServer) -> Settings:
    url = sandbox.store.engine.url.render_as_string(hide_password=False)
    return settings.model_copy(
        update={"sandbox_database_url": SecretStr(url), "sandbox_public_url": sandbox.url}
    )


def test_pinterest_connection_from_the_sandbox(
    app_settings: Settings,
    app_store: AppStore,
    sandbox: SandboxServer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = _sandbox_settings(app_settings, sandbox)
    _run(settings, "add-pinterest", "pins", "--sandbox")
    ring = open_keyring(settings)
    before = load_credentials(app_store, ring, "pins")
    assert before.connection.scopes == {"ads:read", "ads:write"}
    assert "ok: ad account" in _run(settings, "test", "pins")
    # Near expiry: the probe refreshes first (serialised), saving the rotated pair.
    _expire(app_store, "pins")
    _run(settings, "test", "pins")
    refreshed = load_credentials(app_store, ring, "pins")
    assert refreshed.secrets.access_token != before.secrets.access_token
    assert refreshed.secrets.refresh_token != before.secrets.refresh_token
    # A token the API refuses: the client refreshes once after the 401, `on_tokens` saves it.
    far = datetime.now(UTC) + timedelta(days=1)
    token_saver(app_store, ring, "pins")(Tokens("pina_revoked", None, far))
    _run(settings, "test", "pins")
    healed = load_credentials(app_store, ring, "pins")
    assert healed.secrets.access_token not in ("pina_revoked", refreshed.secrets.access_token)
    assert healed.secrets.refresh_token != refreshed.secrets.refresh_token
    assert healed.connection.status is ConnectionStatus.OK
    assert "connections.refreshed" in caplog.text
    assert "connections.tokens_saved" in caplog.text
    for values in (before.secrets, refreshed.secrets, healed.secrets):
        for secret in (values.access_token, values.refresh_token, values.client_secret):
            assert secret
            assert secret not in caplog.text


def test_pinterest_connection_from_a_tokens_file(
    app_settings: Settings, app_store: AppStore, sandbox: SandboxServer, tmp_path: Path
) -> None:
    tenant, stranger = new_sandbox_tenant(sandbox), new_sandbox_tenant(sandbox)
    tokens_file = tmp_path / "tokens.json"
    body = {"access_token": tenant.token, "expires_in": 3600, "scope": "ads:read,ads:write"}
    tokens_file.write_text(json.dumps(body))
    api = f"{sandbox.url}/v5"
    for name, account in (("mine", tenant.ad_account_id), ("theirs", stranger.ad_account_id)):
        _run(
            app_settings,
            "add-pinterest",
            name,
            "--tokens-file",
            str(tokens_file),
            "--ad-account",
            account,
            "--api-base-url",
            api,
        )
    assert f"ok: ad account {tenant.ad_account_id}" in _run(app_settings, "test", "mine")
    _fail(app_settings, "test", "theirs")
    theirs = load_connection(app_store, "theirs")
    assert theirs.status is ConnectionStatus.FAILING
    assert theirs.last_error is not None
    assert tenant.token not in theirs.last_error
    out = _fail(app_settings, "add-pinterest", "neither")
    assert "exactly one of --sandbox and --tokens-file" in out


def test_an_unreachable_crm_is_failing_with_why(
    app_settings: Settings, app_store: AppStore
) -> None:
    with app_store.sessions() as session:
        add_connection(
            session,
            open_keyring(app_settings),
            name="nowhere",
            config=ContactsConfig(base_url="http://127.0.0.1:9", location_id="loc"),
            values=ConnectionSecrets(api_key="pit-nowhere"),
        )
        session.commit()
    result = check_connection(app_store, open_keyring(app_settings), "nowhere")
    assert not result.is_ok
    assert result.connection.status is ConnectionStatus.FAILING
    assert result.detail.startswith("UpstreamUnavailableError: contacts.list: cannot reach")
    assert "pit-nowhere" not in result.detail
