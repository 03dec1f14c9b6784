"""OAuth tokens of a connection: refreshed by one worker at a time, rotations saved atomically.

`refresh_tokens` holds a database lock on the connection for the whole refresh: PostgreSQL's
`SELECT ... FOR UPDATE` on its row, SQLite's write lock (the store's write sessions take it at
BEGIN). Under the lock it re-reads the tokens; if another worker refreshed meanwhile it returns
theirs without refreshing, else it refreshes and saves the new access AND refresh tokens in the
same transaction. Refresh tokens rotate: two workers refreshing with one refresh token would
leave one of them (and its saved token) dead.

The price: the lock is held across the refresh call (bounded by the connector's timeouts).
Refreshes are rare (once a day per connection), and on SQLite other writers wait for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Protocol

from leadwire.engine.connections.health import mark_failing
from leadwire.engine.connections.records import find_row, open_secrets, seal_secrets
from leadwire.engine.secrets import KeyRing
from leadwire.errors import AuthError, FatalError
from leadwire.store.app import AppStore
from leadwire.store.models.connections import ConnectionRow
from leadwire.store.types import utcnow

logger = logging.getLogger(__name__)

DEFAULT_REFRESH_SKEW_S = 300.0


class TokenPair(Protocol):
    """What any connector's token set offers: the shape `on_tokens` callbacks accept.

    Pinterest's and the contacts connector's `TokenSet` both fit as they are; their optional
    `refresh_expires_at` and `scopes` are saved too when present.
    """

    @property
    def access_token(self) -> str: ...

    @property
    def refresh_token(self) -> str | None: ...

    @property
    def access_expires_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class Tokens:
    """A connection's tokens as stored (a `TokenPair`); the values never show in a repr."""

    access_token: str = field(repr=False)
    refresh_token: str | None = field(default=None, repr=False)
    access_expires_at: datetime | None = None
    refresh_expires_at: datetime | None = None
    scopes: frozenset[str] | None = None

    def expires_within(self, seconds: float, now: datetime) -> bool:
        """Return whether the access token expires less than `seconds` after `now`."""
        expires = self.access_expires_at
        return expires is not None and expires - now < timedelta(seconds=seconds)


Refresher = Callable[[Tokens], TokenPair]


def stored_tokens(ring: KeyRing, row: ConnectionRow) -> Tokens:
    """Return the tokens stored on `row`; `AuthError` if it holds no access token."""
    values = open_secrets(ring, row)
    if values.access_token is None:
        raise AuthError(f"connection {row.name!r} holds no OAuth access token")
    return Tokens(
        access_token=values.access_token,
        refresh_token=values.refresh_token,
        access_expires_at=row.access_expires_at,
        refresh_expires_at=row.refresh_expires_at,
        scopes=frozenset(row.scopes),
    )


def save_tokens(ring: KeyRing, row: ConnectionRow, pair: TokenPair) -> Tokens:
    """Store `pair` on `row` (both tokens, one sealing); keep the old refresh token if none came."""
    values = open_secrets(ring, row)
    rotated = pair.refresh_token is not None and pair.refresh_token != values.refresh_token
    refresh_token = pair.refresh_token if pair.refresh_token is not None else values.refresh_token
    seal_secrets(
        ring, row, replace(values, access_token=pair.access_token, refresh_token=refresh_token)
    )
    row.access_expires_at = pair.access_expires_at
    refresh_expires_at: datetime | None = getattr(pair, "refresh_expires_at", None)
    if rotated or refresh_expires_at is not None:
        row.refresh_expires_at = refresh_expires_at
    scopes: frozenset[str] | None = getattr(pair, "scopes", None)
    if scopes:
        row.scopes = sorted(scopes)
    return stored_tokens(ring, row)


def _is_stale(
    current: Tokens, stale_access_token: str | None, skew_s: float, now: datetime
) -> bool:
    if stale_access_token is not None:
        return current.access_token == stale_access_token
    return current.expires_within(skew_s, now)


def refresh_tokens(
    store: AppStore,
    connection_id: str,
    refresher: Refresher,
    *,
    ring: KeyRing,
    stale_access_token: str | None = None,
    skew_s: float = DEFAULT_REFRESH_SKEW_S,
    clock: Callable[[], datetime] = utcnow,
) -> Tokens:
    """Return fresh tokens of the connection, refreshing them at most once across processes.

    The tokens count as stale when the stored access token is still `stale_access_token` (the
    one the caller found refused), or, without it, when they expire within `skew_s`. Fresh ones
    (another worker refreshed meanwhile) are returned as they are; `refresher` is not called.
    A refusal (`FatalError`) marks the connection failing and is raised.
    """
    failure: FatalError | None = None
    with store.sessions() as session:
        row = find_row(session, connection_id, for_update=True)
        current = stored_tokens(ring, row)
        if not _is_stale(current, stale_access_token, skew_s, clock()):
            logger.debug("connections.refresh_skipped connection_id=%s fresh=true", row.id)
            return current
        try:
            pair = refresher(current)
        except FatalError as exc:
            failure = exc
        else:
            fresh = save_tokens(ring, row, pair)
            session.commit()
            logger.info(
                "connections.refreshed connection_id=%s rotated=%s",
                row.id,
                fresh.refresh_token != current.refresh_token,
            )
            return fresh
    # A refused refresh is recorded in a transaction of its own, after the lock is released.
    assert failure is not None
    with store.sessions() as session:
        row = find_row(session, connection_id, for_update=True)
        mark_failing(row, f"token refresh refused: {failure}", clock())
        session.commit()
    logger.warning("connections.refresh_failed connection_id=%s", connection_id)
    raise failure


def token_saver(store: AppStore, ring: KeyRing, connection_id: str) -> Callable[[TokenPair], None]:
    """Return an `on_tokens` callback that saves each rotation (both tokens, atomically)."""

    def on_tokens(pair: TokenPair) -> None:
        with store.sessions() as session:
            row = find_row(session, connection_id, for_update=True)
            save_tokens(ring, row, pair)
            session.commit()
        logger.info("connections.tokens_saved connection_id=%s", connection_id)

    return on_tokens
