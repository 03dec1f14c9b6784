"""INSERT … ON CONFLICT statements, built once per shape and reused.

Building one is not free: `excluded` makes an alias of the table with a proxy of every column,
and SQLAlchemy then derives the statement's cache key from the whole tree. On the per-lead paths
(intake's claim and run rows, a segment's journal) that was about a tenth of the worker's CPU
(py-spy). A statement built once keeps its memoised cache key, so each later use only binds
parameters. Both dialects have the same syntax but their own construct.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache

from sqlalchemy import Connection, Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert

# Shapes are fixed by the call sites (a table, its keys, the columns a row dict has), so a
# handful are ever built; the bound only guards against a caller passing data-made columns.
_SHAPES = 128


def dialect_insert(conn: Connection, table: Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT into `table` that can take an ON CONFLICT clause on `conn`'s database."""
    return _dialect_insert(conn.dialect.name, table)


def _dialect_insert(dialect: str, table: Table) -> sqlite.Insert | postgresql.Insert:
    return sqlite.insert(table) if dialect == "sqlite" else postgresql.insert(table)


def upsert(conn: Connection, table: Table, keys: Sequence[str], columns: Sequence[str]) -> Insert:
    """INSERT into `table`, or on a conflict of `keys` set `columns` to the new row's values."""
    return _upsert(conn.dialect.name, table, tuple(keys), tuple(columns))


def insert_new(
    conn: Connection, table: Table, keys: Sequence[str], returning: Sequence[str] = ()
) -> Insert:
    """INSERT into `table`, skipping rows whose `keys` are taken; `returning`: of rows inserted."""
    return _insert_new(conn.dialect.name, table, tuple(keys), tuple(returning))


@lru_cache(maxsize=_SHAPES)
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], columns: tuple[str, ...]) -> Insert:
    insert = _dialect_insert(dialect, table)
    return insert.on_conflict_do_update(
        index_elements=list(keys), set_={c: insert.excluded[c] for c in columns}
    )


@lru_cache(maxsize=_SHAPES)
def _insert_new(
    dialect: str, table: Table, keys: tuple[str, ...], returning: tuple[str, ...]
) -> Insert:
    statement = _dialect_insert(dialect, table).on_conflict_do_nothing(index_elements=list(keys))
    return statement.returning(*(table.c[c] for c in returning)) if returning else statement
