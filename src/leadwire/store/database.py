"""Engines for SQLite (WAL, deliberate `synchronous`) and PostgreSQL, and session factories."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry


def _sqlite_pragmas(synchronous: str) -> Any:
    def on_connect(dbapi_conn: sqlite3.Connection, _record: ConnectionPoolEntry) -> None:
        # Autocommit while setting pragmas: journal_mode cannot change inside a transaction.
        level = dbapi_conn.isolation_level
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        # Set before the first table exists (a no-op afterwards): pruned pages can then go back
        # to the file system with `PRAGMA incremental_vacuum`, without a full VACUUM.
        cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA synchronous={synchronous}")
        # Writers queue for the lock instead of failing at once under concurrent requests.
        cur.execute("PRAGMA busy_timeout=10000")
        cur.execute("PRAGMA foreign_keys=ON")
        # 512 KiB of page cache per connection, not 2 MiB: a pool of 50 connections would hold
        # 100 MiB of copies of what the OS page cache keeps once anyway.
        cur.execute("PRAGMA cache_size=-512")
        cur.close()
        dbapi_conn.isolation_level = level

    return on_connect


class _WriterQueue:
    """One writer at a time per process, queued on a mutex rather than in SQLite's busy loop.

    SQLite admits one writer. Left to itself, a blocked writer polls with sleeps of up to 100 ms
    (its busy handler), so under concurrent writes throughput drops and tail latency soars. Here
    threads of this process wait on a lock, taken at BEGIN and released when the connection goes
    back to the pool (after COMMIT or ROLLBACK has run); the busy timeout still covers writers in
    other processes.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()

    def begin(self, conn: Any) -> None:
        # Writers take SQLite's lock at BEGIN: a read-then-write transaction upgraded later fails
        # at once with SQLITE_BUSY_SNAPSHOT when another writer got in between. Read-only
        # sessions begin deferred so readers never queue behind writers (WAL).
        if conn.get_execution_options().get("read_only"):
            conn.exec_driver_sql("BEGIN")
            return
        self._lock.acquire()
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            self._lock.release()
            raise
        conn.info[_HOLDS_WRITER] = True

    def release(self, _dbapi_conn: Any, record: Any, *_args: Any) -> None:
        if record.info.pop(_HOLDS_WRITER, False):
            self._lock.release()


_HOLDS_WRITER = "leadwire_holds_writer"


def create_db_engine(url: str, *, sqlite_synchronous: str = "FULL", pool_size: int = 40) -> Engine:
    """Create an engine for `url`; SQLite files get WAL, `synchronous` and a busy timeout.

    `pool_size` matches the ASGI server's thread pool (40) so that connections under load are
    kept, not opened, set up and closed per request as overflow connections are.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "isolation_level": None},
            pool_size=pool_size,
            max_overflow=10,
        )
        event.listen(engine, "connect", _sqlite_pragmas(sqlite_synchronous))
        writers = _WriterQueue()
        event.listen(engine, "begin", writers.begin)
        event.listen(engine.pool, "checkin", writers.release)
        event.listen(engine.pool, "invalidate", writers.release)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() in ("", "psycopg2"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    # A PostgreSQL connection is a server process, and the server allows ~100: keep at most 15
    # per engine, and let requests wait for one rather than fork backends that die on check-in.
    # No pre-ping (a round trip per check-out); connections are recycled hourly.
    return create_engine(
        parsed, pool_size=min(pool_size, 15), max_overflow=0, pool_timeout=30, pool_recycle=3600
    )


def session_factory(engine: Engine, *, read_only: bool = False) -> sessionmaker[Session]:
    """Return a session factory bound to `engine` that keeps objects readable after commit.

    `read_only` sessions never take SQLite's write lock; use them for GETs.
    """
    bind = engine.execution_options(read_only=True) if read_only else engine
    return sessionmaker(bind, expire_on_commit=False)
