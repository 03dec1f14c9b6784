"""Connections in the store: secrets sealed (never in clear, in logs or reprs), health, scopes."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from pydantic import SecretStr
from sqlalchemy import MetaData, select, update

from leadwire.engine.connections import (
    ConnectionKind,
    ConnectionSecrets,
    ConnectionStatus,
    ContactsAuth,
    ContactsConfig,
    Credentials,
    PinterestConfig,
    Tokens,
    add_connection,
    excess_scopes,
    list_connections,
    load_connection,
    load_credentials,
    record_failure,
    record_ok,
    refresh_tokens,
    scope_warning,
)
from leadwire.engine.secrets import KeyRing, SecretDecodeError
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from leadwire.store.models.base import AppBase
from leadwire.store.models.connections import ConnectionRow
from tests.conftest import make_settings

API_KEY = "pit-4f1e2d3c-PLAINTEXT-API-KEY"
ACCESS = "pina_PLAINTEXT-ACCESS-TOKEN"
REFRESH = "pinr_PLAINTEXT-REFRESH-TOKEN"
CLIENT_SECRET = "PLAINTEXT-CLIENT-SECRET"
NEW_ACCESS = "pina_PLAINTEXT-ACCESS-TOKEN-2"
NEW_REFRESH = "pinr_PLAINTEXT-REFRESH-TOKEN-2"
SECRETS = (API_KEY, ACCESS, REFRESH, CLIENT_SECRET, NEW_ACCESS, NEW_REFRESH)
T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.from_file(tmp_path / "keys.json")


def _add_both(store: AppStore, ring: KeyRing) -> tuple[str, str]:
    with store.sessions() as session:
        crm = add_connection(
            session,
            ring,
            name="crm",
            config=ContactsConfig(base_url="http://127.0.0.1:8410", location_id="loc1"),
            values=ConnectionSecrets(api_key=API_KEY),
            scopes=["contacts.readonly", "contacts.write"],
        )
        pins = add_connection(
            session,
            ring,
            name="pins",
            config=PinterestConfig(
                api_base_url="http://127.0.0.1:8420/v5", ad_account_id="549755885175", client_id="1"
            ),
            values=ConnectionSecrets(
                client_secret=CLIENT_SECRET, access_token=ACCESS, refresh_token=REFRESH
            ),
            scopes=["ads:read", "ads:write", "pins:write"],
            access_expires_at=T0,
        )
        session.commit()
    return crm.id, pins.id


def _rotate(current: Tokens) -> Tokens:
    assert current.refresh_token == REFRESH
    return Tokens(NEW_ACCESS, NEW_REFRESH, T0 + timedelta(days=30))


def test_connections_round_trip(app_store: AppStore, ring: KeyRing) -> None:
    crm_id, pins_id = _add_both(app_store, ring)
    with app_store.read_sessions() as session:
        listed = list_connections(session)
    assert [c.name for c in listed] == ["crm", "pins"]
    crm = load_credentials(app_store, ring, "crm")
    assert crm.connection.id == crm_id
    assert crm.connection.kind is ConnectionKind.CONTACTS
    assert crm.connection.status is ConnectionStatus.UNTESTED
    assert crm.connection.key_id == ring.active_id
    assert isinstance(crm.connection.config, ContactsConfig)
    assert crm.connection.config.auth is ContactsAuth.API_KEY
    assert crm.secrets == ConnectionSecrets(api_key=API_KEY)
    pins = load_credentials(app_store, ring, pins_id)
    assert pins.secrets.access_token == ACCESS
    assert pins.connection.access_expires_at == T0
    assert pins.connection.scopes == {"ads:read", "ads:write", "pins:write"}
    with app_store.sessions() as session, pytest.raises(ValueError, match="exists already"):
        add_connection(
            session,
            ring,
            name="crm",
            config=ContactsConfig(base_url="http://x", location_id="l"),
            values=ConnectionSecrets(api_key="k"),
        )


def _every_lw_value(store: AppStore) -> list[object]:
    metadata = MetaData()
    metadata.reflect(store.engine)
    values: list[object] = []
    with store.engine.connect() as conn:
        for table in metadata.sorted_tables:
            if table.name.startswith("lw_"):
                values += [v for row in conn.execute(select(table)) for v in row]
    return values


def test_no_secret_is_stored_in_clear(app_store: AppStore, ring: KeyRing) -> None:
    _add_both(app_store, ring)
    refresh_tokens(app_store, "pins", _rotate, ring=ring, clock=lambda: T0)
    values = _every_lw_value(app_store)
    assert len(values) > 20
    for value in values:
        raw = value if isinstance(value, bytes | memoryview) else str(value).encode()
        for secret in SECRETS:
            assert secret.encode() not in bytes(raw), secret
    assert load_credentials(app_store, ring, "pins").secrets.refresh_token == NEW_REFRESH


def test_no_secret_reaches_a_log(
    app_store: AppStore, ring: KeyRing, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        _add_both(app_store, ring)
        load_credentials(app_store, ring, "crm")
        refresh_tokens(app_store, "pins", _rotate, ring=ring, clock=lambda: T0)
        record_failure(app_store, "crm", f"refused: Bearer {API_KEY}")
    assert "connections.refreshed" in caplog.text
    assert "connections.failing" in caplog.text
    for secret in SECRETS:
        assert secret not in caplog.text


def test_no_secret_shows_in_a_repr(app_store: AppStore, ring: KeyRing, tmp_path: Path) -> None:
    _add_both(app_store, ring)
    shown: list[object] = []
    for name in ("crm", "pins"):
        credentials = load_credentials(app_store, ring, name)
        shown += [credentials, credentials.secrets, credentials.connection]
    shown.append(Tokens(NEW_ACCESS, NEW_REFRESH, T0))
    shown.append(Credentials(load_connection(app_store, "crm"), ConnectionSecrets(API_KEY)))
    settings: Settings = make_settings(
        tmp_path, database_url=SecretStr(f"postgresql://u:{CLIENT_SECRET}@h/db")
    )
    shown.append(settings)
    text = " ".join(repr(o) + str(o) for o in shown)
    assert "crm" in text
    for secret in SECRETS:
        assert secret not in text


def test_migrations_make_exactly_the_models_schema(app_store: AppStore) -> None:
    with app_store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diffs = compare_metadata(context, AppBase.metadata)
    mine = [d for d in diffs if "lw_connections" in repr(d)]
    assert mine == []


def test_tampered_or_moved_secrets_are_refused(app_store: AppStore, ring: KeyRing) -> None:
    crm_id, pins_id = _add_both(app_store, ring)
    with app_store.sessions() as session:
        pins = session.get(ConnectionRow, pins_id)
        assert pins is not None
        moved = pins.secrets
        session.execute(
            update(ConnectionRow).where(ConnectionRow.id == crm_id).values(secrets=moved)
        )
        session.commit()
    with pytest.raises(SecretDecodeError, match=f"connection:{crm_id}:secrets: does not auth"):
        load_credentials(app_store, ring, "crm")
    flipped = bytearray(moved)
    flipped[len(flipped) // 2] ^= 0x10
    with app_store.sessions() as session:
        session.execute(
            update(ConnectionRow).where(ConnectionRow.id == pins_id).values(secrets=bytes(flipped))
        )
        session.commit()
    with pytest.raises(SecretDecodeError):
        load_credentials(app_store, ring, "pins")


def test_failing_says_why_and_since_when_and_clears_on_success(
    app_store: AppStore, ring: KeyRing
) -> None:
    _add_both(app_store, ring)
    first = record_failure(app_store, "crm", "AuthError: HTTP 401: Invalid JWT", now=T0)
    assert first.status is ConnectionStatus.FAILING
    assert first.failing_since == T0
    later = T0 + timedelta(minutes=5)
    second = record_failure(app_store, "crm", "UpstreamUnavailableError: HTTP 503", now=later)
    assert second.failing_since == T0  # since the first failure of the run
    assert second.last_error == "UpstreamUnavailableError: HTTP 503"
    ok = record_ok(app_store, "crm", now=later + timedelta(minutes=1))
    assert ok.status is ConnectionStatus.OK
    assert ok.failing_since is None
    assert ok.last_error is None
    assert ok.last_ok_at == later + timedelta(minutes=1)
    again = record_failure(app_store, "crm", "down", now=later + timedelta(hours=1))
    assert again.failing_since == later + timedelta(hours=1)
    assert load_connection(app_store, "crm").last_ok_at == later + timedelta(minutes=1)


def test_excess_scopes_are_warned(app_store: AppStore, ring: KeyRing) -> None:
    _add_both(app_store, ring)
    crm, pins = load_connection(app_store, "crm"), load_connection(app_store, "pins")
    assert excess_scopes(crm, {"contacts.write"}) == {"contacts.readonly"}
    assert excess_scopes(crm, {"contacts.readonly", "contacts.write"}) == set()
    assert scope_warning(crm) is None
    warning = scope_warning(pins)
    assert warning is not None
    assert "pins:write" in warning
    assert "ads:read" not in warning.split("(")[0]
    assert scope_warning(pins, {"ads:read"}) is not None
    assert "ads:write, pins:write" in (scope_warning(pins, {"ads:read"}) or "")
