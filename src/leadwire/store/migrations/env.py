"""Alembic environment of the app store (its own version table, so stores can share a DB)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

import leadwire.store.models  # noqa: F401 - registers every app table
from leadwire.store.database import create_db_engine
from leadwire.store.models.base import AppBase

VERSION_TABLE = "lw_alembic_version"


def _only_app_tables(name: str | None, kind: str, _parents: object) -> bool:
    # DBOS's system tables share the database: never propose to drop them.
    return kind != "table" or (name or "").startswith("lw_")


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=AppBase.metadata,
        version_table=VERSION_TABLE,
        render_as_batch=True,
        compare_type=True,
        include_name=_only_app_tables,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    """Migrate over the caller's connection if given one, else open the configured URL."""
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = create_db_engine(context.config.get_main_option("sqlalchemy.url") or "")
    with engine.begin() as conn:
        _run(conn)


run()
