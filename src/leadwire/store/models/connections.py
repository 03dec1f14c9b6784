"""Connections: the credentials and settings leadwire uses to reach Pinterest and a CRM.

Secrets (tokens, client secrets, API keys) are sealed together in `secrets` (see
`leadwire.engine.secrets`); `secrets_key_id` repeats the id of the key that sealed them so a
rotation can find and count what each key still seals without opening anything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.store.models.base import AppBase
from leadwire.store.types import utcnow


class ConnectionRow(AppBase):
    """One connection: its kind, clear settings, sealed secrets, scopes and health."""

    __tablename__ = "lw_connections"

    id: Mapped[str] = mapped_column(String(24), primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    config: Mapped[dict[str, Any]]
    scopes: Mapped[list[str]]
    secrets: Mapped[bytes] = mapped_column(LargeBinary)
    secrets_key_id: Mapped[str] = mapped_column(String(64), index=True)
    access_expires_at: Mapped[datetime | None]
    refresh_expires_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(String(16))
    failing_since: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    last_ok_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    @property
    def secrets_owner(self) -> str:
        """Return the identity the secrets are sealed for (their associated data)."""
        return f"connection:{self.id}:secrets"
