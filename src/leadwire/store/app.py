"""The app store: engine, read and write sessions, and migrations to the current schema.

Migrations live in `leadwire/store/migrations`; each part adds its tables as its own Alembic
branch from the base revision, and `upgrade` brings every head up to date.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from leadwire.settings import Settings
from leadwire.store.database import create_db_engine, session_factory

MIGRATIONS = Path(__file__).with_name("migrations")


@dataclass(frozen=True)
class AppStore:
    """An open app database."""

    engine: Engine
    sessions: sessionmaker[Session]
    read_sessions: sessionmaker[Session]


def alembic_config(url: str) -> Config:
    """Return an Alembic config for the app store's migrations against `url`."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(engine: Engine) -> None:
    """Run every pending migration of every branch on `engine`."""
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "heads")


def open_app_store(settings: Settings, *, url: str | None = None, migrate: bool = True) -> AppStore:
    """Open the app store at `url` (default: from settings) and bring its schema up to date."""
    engine = create_db_engine(
        url or settings.app_url(), sqlite_synchronous=settings.sqlite_synchronous
    )
    if migrate:
        upgrade(engine)
    return AppStore(engine, session_factory(engine), session_factory(engine, read_only=True))
