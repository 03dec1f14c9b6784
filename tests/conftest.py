"""Fixtures shared by every test: settings in a temporary data folder, databases, servers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from leadwire.settings import Settings
from tests.databases import postgres_database


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest) -> str:
    """Each test that takes this runs on SQLite and on PostgreSQL."""
    value: str = request.param
    return value


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """One fresh PostgreSQL database for the whole session (per xdist worker)."""
    with postgres_database() as url:
        yield url


def make_settings(data_dir: Path, **overrides: object) -> Settings:
    """Return settings for a test: its own data folder, limits high enough not to interfere."""
    values: dict[str, object] = {
        "data_dir": data_dir,
        "crm_rate_burst": 1_000_000,
        "crm_rate_daily": 10_000_000,
        "sqlite_synchronous": "NORMAL",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]
