"""A connection's health (ok, or failing: why and since when) and its excess scopes."""

from __future__ import annotations

import logging
from collections.abc import Set
from datetime import datetime

from leadwire.engine.connections.model import (
    MOST_NEEDED_SCOPES,
    Connection,
    ConnectionStatus,
)
from leadwire.engine.connections.records import find_row, to_connection
from leadwire.logs import redact_text
from leadwire.store.app import AppStore
from leadwire.store.models.connections import ConnectionRow
from leadwire.store.types import utcnow

logger = logging.getLogger(__name__)

MAX_ERROR_CHARS = 1000


def mark_ok(row: ConnectionRow, now: datetime) -> None:
    """Record on `row` that the connection worked at `now`: no longer failing."""
    row.status = ConnectionStatus.OK.value
    row.last_ok_at = now
    row.failing_since = None
    row.last_error = None


def mark_failing(row: ConnectionRow, reason: str, now: datetime) -> None:
    """Record on `row` that the connection failed at `now` for `reason`.

    `failing_since` keeps the first failure of a run of failures; `last_error` the latest reason.
    """
    if row.status != ConnectionStatus.FAILING.value or row.failing_since is None:
        row.failing_since = now
    row.status = ConnectionStatus.FAILING.value
    row.last_error = redact_text(reason)[:MAX_ERROR_CHARS]


def record_ok(store: AppStore, ref: str, *, now: datetime | None = None) -> Connection:
    """Record that connection `ref` worked (now); return it."""
    with store.sessions() as session:
        row = find_row(session, ref, for_update=True)
        was_failing = row.status == ConnectionStatus.FAILING.value
        mark_ok(row, now or utcnow())
        session.commit()
        connection = to_connection(row)
    if was_failing:
        logger.info("connections.recovered connection_id=%s", connection.id)
    return connection


def record_failure(
    store: AppStore, ref: str, reason: str, *, now: datetime | None = None
) -> Connection:
    """Record that connection `ref` failed (now) for `reason`; return it."""
    with store.sessions() as session:
        row = find_row(session, ref, for_update=True)
        mark_failing(row, reason, now or utcnow())
        session.commit()
        connection = to_connection(row)
    logger.warning(
        "connections.failing connection_id=%s since=%s reason=%s",
        connection.id,
        connection.failing_since.isoformat() if connection.failing_since else None,
        connection.last_error,
    )
    return connection


def excess_scopes(connection: Connection, needed: Set[str]) -> set[str]:
    """Return the scopes `connection` holds that the flows using it do not need."""
    return set(connection.scopes) - set(needed)


def scope_warning(connection: Connection, needed: Set[str] | None = None) -> str | None:
    """Return a warning when `connection` holds more scopes than `needed`, else None.

    Without `needed`, the most any leadwire flow can use with this kind of connection.
    """
    wanted = MOST_NEEDED_SCOPES[connection.kind] if needed is None else needed
    extra = excess_scopes(connection, wanted)
    if not extra:
        return None
    return (
        f"connection {connection.name!r} holds scopes its flows do not need: "
        f"{', '.join(sorted(extra))} (needed: {', '.join(sorted(wanted)) or 'none'}); "
        "grant only what is needed"
    )
