"""Credentials: API keys, OAuth clients, codes and tokens (all stored hashed), idempotency keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.crm.models.base import Base, utcnow


class ApiKey(Base):
    """A per-location API key / private integration token; only its SHA-256 is kept."""

    __tablename__ = "crm_api_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    token_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # The first characters, so a user can tell keys apart without the key itself.
    prefix: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[str] = mapped_column(String(400))
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class OAuthClient(Base):
    """A marketplace app: confidential client with redirect URIs and allowed scopes."""

    __tablename__ = "crm_oauth_clients"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    company_id: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(200))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    redirect_uris: Mapped[list[str]] = mapped_column(default=list)
    scopes: Mapped[str] = mapped_column(String(400))
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class OAuthCode(Base):
    """An authorization code, single use, bound to client, location, redirect URI and PKCE."""

    __tablename__ = "crm_oauth_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("crm_oauth_clients.id"))
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(400))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class OAuthToken(Base):
    """An access/refresh token pair of one grant.

    A refresh spends this pair's refresh token at once and issues a new pair; this access token
    lives until it expires (HighLevel's are stateless JWTs). Presenting a spent refresh token
    again revokes every token of the grant.
    """

    __tablename__ = "crm_oauth_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("crm_oauth_clients.id"), index=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"))
    user_id: Mapped[str | None] = mapped_column(String(32))
    user_type: Mapped[str] = mapped_column(String(16), default="Location")
    access_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    refresh_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    scope: Mapped[str] = mapped_column(String(400))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # The token this one was refreshed from: replaying a used refresh token revokes the family.
    parent_id: Mapped[str | None] = mapped_column(String(32))


class IdempotencyRecord(Base):
    """The first response to a creating POST carrying an `Idempotency-Key` (kept 24 h)."""

    __tablename__ = "crm_idempotency"
    __table_args__ = (
        UniqueConstraint("principal", "key", name="uq_crm_idempotency_principal_key"),
        Index("ix_crm_idempotency_created", "date_added"),
    )

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    principal: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    fingerprint: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int]
    body: Mapped[dict[str, Any]]
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
