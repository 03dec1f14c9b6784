"""Connections in the app store: add, find, list, and seal or open their secrets.

Functions taking a `Session` leave committing to the caller; those taking the store commit.
"""

from __future__ import annotations

import logging
import secrets as random
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadwire.engine.connections.model import (
    Connection,
    ConnectionConfig,
    ConnectionId,
    ConnectionKind,
    ConnectionSecrets,
    ConnectionStatus,
    ContactsConfig,
    Credentials,
    PinterestConfig,
)
from leadwire.engine.secrets import KeyRing
from leadwire.errors import NotFoundError
from leadwire.store.app import AppStore
from leadwire.store.models.connections import ConnectionRow
from leadwire.store.types import utcnow

logger = logging.getLogger(__name__)


def new_connection_id() -> ConnectionId:
    """Return a fresh connection id (`cn_` and 16 hex digits)."""
    return ConnectionId(f"cn_{random.token_hex(8)}")


def to_connection(row: ConnectionRow) -> Connection:
    """Return the row as shown (no secrets)."""
    kind = ConnectionKind(row.kind)
    config: ConnectionConfig = (
        PinterestConfig.model_validate(row.config)
        if kind is ConnectionKind.PINTEREST
        else ContactsConfig.model_validate(row.config)
    )
    return Connection(
        id=ConnectionId(row.id),
        name=row.name,
        kind=kind,
        config=config,
        scopes=frozenset(row.scopes),
        status=ConnectionStatus(row.status),
        failing_since=row.failing_since,
        last_error=row.last_error,
        last_ok_at=row.last_ok_at,
        access_expires_at=row.access_expires_at,
        refresh_expires_at=row.refresh_expires_at,
        key_id=row.secrets_key_id,
        created_at=row.created_at,
    )


def seal_secrets(ring: KeyRing, row: ConnectionRow, values: ConnectionSecrets) -> None:
    """Seal `values` into `row` with the ring's active key."""
    sealed = ring.seal(values.to_bytes(), row.secrets_owner)
    row.secrets = sealed
    row.secrets_key_id = ring.key_id_of(sealed, row.secrets_owner)


def open_secrets(ring: KeyRing, row: ConnectionRow) -> ConnectionSecrets:
    """Return the secrets sealed in `row`; raise `SecretDecodeError` if they cannot be opened."""
    return ConnectionSecrets.from_bytes(ring.open(row.secrets, row.secrets_owner))


def add_connection(
    session: Session,
    ring: KeyRing,
    *,
    name: str,
    config: ConnectionConfig,
    values: ConnectionSecrets,
    scopes: Iterable[str] = (),
    access_expires_at: datetime | None = None,
    refresh_expires_at: datetime | None = None,
) -> Connection:
    """Add a connection named `name` (unique); its secrets sealed, its status untested."""
    name = name.strip()
    if not name:
        raise ValueError("a connection needs a name")
    if session.scalar(select(ConnectionRow.id).where(ConnectionRow.name == name)) is not None:
        raise ValueError(f"a connection named {name!r} exists already")
    row = ConnectionRow(
        id=new_connection_id(),
        name=name,
        kind=config.kind.value,
        config=config.model_dump(mode="json"),
        scopes=sorted(set(scopes)),
        access_expires_at=access_expires_at,
        refresh_expires_at=refresh_expires_at,
        status=ConnectionStatus.UNTESTED.value,
        created_at=utcnow(),
    )
    seal_secrets(ring, row, values)
    session.add(row)
    session.flush()
    logger.info(
        "connections.added connection_id=%s kind=%s key_id=%s", row.id, row.kind, row.secrets_key_id
    )
    return to_connection(row)


def find_row(session: Session, ref: str, *, for_update: bool = False) -> ConnectionRow:
    """Return the connection whose id or name is `ref` (locked if `for_update`), or raise."""
    query = select(ConnectionRow).where(or_(ConnectionRow.id == ref, ConnectionRow.name == ref))
    if for_update:
        # PostgreSQL locks the row; SQLite's write sessions hold the database lock already.
        query = query.with_for_update()
    row = session.scalars(query).first()
    if row is None:
        raise NotFoundError(f"no connection with id or name {ref!r}")
    return row


def list_connections(session: Session) -> list[Connection]:
    """Return every connection, by name."""
    rows = session.scalars(select(ConnectionRow).order_by(ConnectionRow.name))
    return [to_connection(row) for row in rows]


def load_connection(store: AppStore, ref: str) -> Connection:
    """Return the connection whose id or name is `ref`."""
    with store.read_sessions() as session:
        return to_connection(find_row(session, ref))


def load_credentials(store: AppStore, ring: KeyRing, ref: str) -> Credentials:
    """Return the connection `ref` with its secrets opened."""
    with store.read_sessions() as session:
        row = find_row(session, ref)
        return Credentials(to_connection(row), open_secrets(ring, row))


def remove_connection(store: AppStore, ref: str) -> ConnectionId:
    """Delete the connection `ref`; return its id."""
    with store.sessions() as session:
        row = find_row(session, ref, for_update=True)
        connection_id = ConnectionId(row.id)
        session.delete(row)
        session.commit()
    logger.info("connections.removed connection_id=%s", connection_id)
    return connection_id
