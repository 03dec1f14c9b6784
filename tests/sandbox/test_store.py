"""The sandbox store: migrations match the models, state survives a restart, keys are sealed."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from cryptography.exceptions import InvalidTag
from sqlalchemy import inspect

from leadwire.sandbox import admin, keys
from leadwire.sandbox.models import Base
from leadwire.sandbox.store import VERSION_TABLE, open_store
from tests.sandbox.conftest import sandbox_settings


@pytest.fixture
def store_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL of this test's backend (SQLite in tmp_path, or the session's PostgreSQL)."""
    if backend == "postgres":
        url: str = request.getfixturevalue("pg_url")
        return url
    return f"sqlite:///{tmp_path / 'sandbox.db'}"


def _only_sandbox_tables(name: str | None, kind: str, _parents: object) -> bool:
    return kind != "table" or (name or "").startswith("sandbox_")


def test_migrations_create_exactly_the_models(store_url: str, tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    open_store(settings, url=store_url).engine.dispose()
    store = open_store(settings, url=store_url)  # a second upgrade is a no-op
    try:
        with store.engine.connect() as connection:
            # The PostgreSQL database may hold other stores' tables too: compare only ours.
            context = MigrationContext.configure(
                connection,
                opts={
                    "version_table": VERSION_TABLE,
                    "compare_type": True,
                    "include_name": _only_sandbox_tables,
                },
            )
            assert compare_metadata(context, Base.metadata) == []
            assert VERSION_TABLE in inspect(connection).get_table_names()
    finally:
        store.engine.dispose()


def test_state_survives_a_restart(store_url: str, tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    first = open_store(settings, url=store_url)
    with first.sessions() as session:
        world = admin.demo_world(session, settings)
        session.commit()
    first.engine.dispose()
    again = open_store(settings, url=store_url)
    with again.sessions() as session:
        same = admin.demo_world(session, settings)
        session.commit()
    again.engine.dispose()
    assert same.ad_account_id == world.ad_account_id
    assert same.hierarchy == world.hierarchy
    assert same.app.id == world.app.id
    assert same.app.secret != world.app.secret, "the demo rotates the secret it shows"
    assert same.token.access_token != world.token.access_token


def test_master_key_is_a_private_file_and_stable(tmp_path: Path) -> None:
    settings = sandbox_settings(tmp_path)
    key = keys.load_master_key(settings)
    path = keys.master_key_path(settings)
    assert len(key) == 32
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    path.chmod(0o644)
    assert keys.load_master_key(settings) == key
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_sealed_keys_open_only_for_their_subscription(tmp_path: Path) -> None:
    master = keys.load_master_key(sandbox_settings(tmp_path))
    key = keys.new_subscription_key()
    assert len(base64.b64decode(key + "=")) == 32
    sealed = keys.seal(master, "111", key)
    assert key.encode() not in sealed
    assert keys.unseal(master, "111", sealed) == key
    with pytest.raises(InvalidTag):
        keys.unseal(master, "222", sealed)
    with pytest.raises(InvalidTag):
        keys.unseal(bytes(32), "111", sealed)
