"""Pinterest hooks: the secret URLs Pinterest delivers leads to, and the keys to open them.

A hook is `POST /hooks/pinterest/{secret}`. The URL secret is kept only as its SHA-256 (it is
random, so a fast hash is enough to find the row and useless to an attacker who reads the
database); the Pinterest subscription's delivery key, which decrypts the leads, is sealed like
every other secret at rest.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.store.models.base import AppBase
from leadwire.store.types import utcnow


class PinterestHookRow(AppBase):
    """One receiving URL of Pinterest lead deliveries."""

    __tablename__ = "lw_pinterest_hooks"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The Pinterest connection whose subscription delivers here: its leads' context is fetched
    # with it, and flows bound to it (or to no connection) run for its leads.
    pinterest_connection_id: Mapped[str | None] = mapped_column(String(24))
    # Pinterest's id of the webhook subscription, when known (to delete it with the hook).
    subscription_id: Mapped[str | None] = mapped_column(String(64))
    delivery_key: Mapped[bytes] = mapped_column(LargeBinary)
    delivery_key_key_id: Mapped[str] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_delivery_at: Mapped[datetime | None]

    @property
    def delivery_key_owner(self) -> str:
        """Return the identity the delivery key is sealed for (its associated data)."""
        return f"hook:{self.id}:delivery_key"
