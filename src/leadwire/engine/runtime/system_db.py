"""Engines on the engine's database: DBOS's system tables live beside the app store's tables.

One database holds both (one SQLite file in the data folder, or one PostgreSQL database with
DBOS in its `dbos` schema), so intake enqueues a lead's workflow and writes its run row in one
transaction.

Two durability levels, on purpose:

- *Intake* commits are durable (`synchronous=FULL` by default on SQLite, PostgreSQL's default
  `synchronous_commit=on`): a lead acknowledged to Pinterest must survive a power cut.
- *Checkpoint* commits (DBOS step results, workflow outcomes, run timelines) may be relaxed
  (`synchronous=NORMAL` in WAL mode, `synchronous_commit=off`): the database stays consistent,
  and a checkpoint lost to a power cut only makes its step run again — which every step must
  survive anyway, since a crash mid-step does the same. A later durable commit flushes the
  log up to and including every earlier relaxed commit.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from dbos import DBOS
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import QueuePool

SYNCHRONOUS_LEVELS = ("OFF", "NORMAL", "FULL", "EXTRA")
DBOS_SCHEMA = "dbos"


def is_sqlite(url: str) -> bool:
    """Say whether `url` names a SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_creator(path: str, synchronous: str) -> Any:
    def connect() -> sqlite3.Connection:
        # Legacy transaction control with IMMEDIATE, as DBOS's own SQLite engine uses: the
        # driver takes the write lock at the first write, so reads never queue behind writers.
        conn = sqlite3.connect(
            path, timeout=30.0, check_same_thread=False, isolation_level="IMMEDIATE"
        )
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")  # before the first table (see store)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute(f"PRAGMA synchronous={synchronous}")
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=ON")
        return conn

    return connect


def _postgres_url(url: str) -> URL:
    parsed = make_url(url)
    if parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def open_engine(
    url: str, *, synchronous: str, pool_size: int = 20, relaxed: bool = False
) -> Engine:
    """Open the engine's database at `url` with commits of the given durability.

    `synchronous` is the SQLite level of this engine's connections; on PostgreSQL, `relaxed`
    turns `synchronous_commit` off for them (checkpoints), else the server's default stands.
    """
    level = synchronous.upper()
    if level not in SYNCHRONOUS_LEVELS:
        raise ValueError(f"synchronous must be one of {SYNCHRONOUS_LEVELS}")
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if not database or database == ":memory:":
            raise ValueError("the engine needs a SQLite file, not an in-memory database")
        Path(database).parent.mkdir(parents=True, exist_ok=True)
        return create_engine(
            parsed,
            creator=_sqlite_creator(database, level),
            poolclass=QueuePool,
            pool_size=pool_size,
            max_overflow=pool_size,
            pool_timeout=30,
        )
    engine = create_engine(
        _postgres_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=30,
        pool_pre_ping=True,
    )
    if relaxed:

        @event.listens_for(engine, "connect")
        def _relax(dbapi_conn: Any, _record: Any) -> None:
            with dbapi_conn.cursor() as cursor:
                cursor.execute("SET synchronous_commit = off")
            # Committed: the pool rolls back on check-in, which would undo a bare SET.
            dbapi_conn.commit()

    return engine


def migrate_system_tables(url: str) -> None:
    """Create or bring up to date DBOS's system tables in the engine's database."""
    if is_sqlite(url):
        # Set WAL before DBOS's migrator opens the file in its default journal mode; the mode
        # is a property of the file and every later connection keeps it.
        engine = open_engine(url, synchronous="FULL", pool_size=1)
        with engine.connect():
            pass
        engine.dispose()
        DBOS.migrate(url)
        return
    DBOS.migrate(_postgres_url(url).render_as_string(hide_password=False), schema=DBOS_SCHEMA)
