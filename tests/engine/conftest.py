"""Fixtures of the engine's tests: settings and an app store per backend, clean for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from tests.conftest import make_settings


@pytest.fixture
def app_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings whose app store is this test's backend: a SQLite file, or the session's PG."""
    if backend == "postgres":
        return make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))
    return make_settings(tmp_path)


@pytest.fixture
def app_store(app_settings: Settings, backend: str) -> Iterator[AppStore]:
    """The app store of `app_settings`, migrated, with every `lw_` table empty."""
    store = open_app_store(app_settings)
    if backend == "postgres":
        # One PostgreSQL database serves the session: empty it instead of making a new one.
        tables = [
            t
            for t in inspect(store.engine).get_table_names()
            if t.startswith("lw_") and t != "lw_alembic_version"
        ]
        if tables:
            with store.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    yield store
    store.engine.dispose()
