"""The sandbox's store: engine, read and write sessions, and migrations to the current schema."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from leadwire.settings import Settings
from leadwire.store import create_db_engine, session_factory

MIGRATIONS = Path(__file__).with_name("migrations")
VERSION_TABLE = "sandbox_alembic_version"


@dataclass(frozen=True)
class SandboxStore:
    """An open sandbox database: write sessions take SQLite's lock at BEGIN, read ones don't."""

    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the sandbox's migrations against `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def open_store(settings: Settings, *, url: str | None = None, migrate: bool = True) -> SandboxStore:
    """Open the sandbox store at `url` (default: from settings) and bring its schema up to date."""
    url = url or settings.sandbox_url()
    engine = create_db_engine(url, sqlite_synchronous=settings.sqlite_synchronous)
    if migrate:
        upgrade(engine)
    return SandboxStore(engine, session_factory(engine), session_factory(engine, read_only=True))


def upgrade(engine: Engine) -> None:
    """Run every pending migration on `engine`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
