"""Pinterest hooks in the app store: create one (its URL secret shown once), find one by secret.

The URL secret is the only credential of an unauthenticated endpoint, so it is 256 random bits
and kept as its SHA-256; comparing hashes found by an indexed look-up leaks nothing useful
about the secret through timing. The delivery key is sealed with the key ring.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.envelope import decode_key
from leadwire.engine.secrets import KeyRing
from leadwire.errors import BadRequestError, NotFoundError
from leadwire.store.models.hooks import PinterestHookRow

HOOK_PATH = "/hooks/pinterest/{secret}"


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    """Return a fresh URL secret (43 URL-safe characters)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True, slots=True)
class Hook:
    """A hook as shown: never its secret or delivery key."""

    id: str
    name: str
    pinterest_connection_id: str | None
    subscription_id: str | None
    created_at: datetime
    last_delivery_at: datetime | None


def to_hook(row: PinterestHookRow) -> Hook:
    """Return the shown part of a hook row."""
    return Hook(
        id=row.id,
        name=row.name,
        pinterest_connection_id=row.pinterest_connection_id,
        subscription_id=row.subscription_id,
        created_at=row.created_at,
        last_delivery_at=row.last_delivery_at,
    )


def create_hook(
    session: Session,
    ring: KeyRing,
    *,
    name: str,
    delivery_key: str,
    pinterest_connection_id: str | None = None,
    subscription_id: str | None = None,
    secret: str | None = None,
) -> tuple[Hook, str]:
    """Add a hook; return it and its URL secret (shown this once, never stored in clear).

    `delivery_key` is the subscription's base64 key (checked here, so a typo fails now rather
    than on every delivery). `secret` is for tests and re-creating a known URL; else fresh.
    """
    decode_key(delivery_key)  # DecodeError naming the problem
    if session.scalars(select(PinterestHookRow.id).where(PinterestHookRow.name == name)).first():
        raise BadRequestError(f"a hook named {name!r} exists already")
    secret = secret or new_secret()
    row = PinterestHookRow(
        id="hk_" + secrets.token_hex(8),
        name=name,
        secret_hash=_hash(secret),
        pinterest_connection_id=pinterest_connection_id,
        subscription_id=subscription_id,
        delivery_key=b"",
        delivery_key_key_id="",
        last_delivery_at=None,
    )
    sealed = ring.seal(delivery_key.encode(), row.delivery_key_owner)
    row.delivery_key = sealed
    row.delivery_key_key_id = ring.key_id_of(sealed, row.delivery_key_owner)
    session.add(row)
    session.flush()
    return to_hook(row), secret


def find_hook(session: Session, secret: str) -> PinterestHookRow | None:
    """Return the hook whose URL secret is `secret`, or None."""
    if not 16 <= len(secret) <= 128:
        return None
    query = select(PinterestHookRow).where(PinterestHookRow.secret_hash == _hash(secret))
    return session.scalars(query).first()


def delivery_key_of(ring: KeyRing, row: PinterestHookRow) -> str:
    """Return the hook's delivery key (raises `SecretDecodeError` if it cannot be opened)."""
    return ring.open(row.delivery_key, row.delivery_key_owner).decode()


def list_hooks(session: Session) -> list[Hook]:
    """Return every hook, by name."""
    rows = session.scalars(select(PinterestHookRow).order_by(PinterestHookRow.name))
    return [to_hook(row) for row in rows]


def remove_hook(session: Session, ref: str) -> Hook:
    """Delete the hook whose id or name is `ref`; return it."""
    row = session.scalars(
        select(PinterestHookRow).where(
            (PinterestHookRow.id == ref) | (PinterestHookRow.name == ref)
        )
    ).first()
    if row is None:
        raise NotFoundError(f"no hook with id or name {ref!r}")
    hook = to_hook(row)
    session.delete(row)
    return hook
