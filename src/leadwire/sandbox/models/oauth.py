"""OAuth codes and tokens issued by the sandbox, stored as SHA-256 hashes only."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.sandbox.models.base import Base, utcnow


class AuthCode(Base):
    """An authorization code: single use, bound to app, user, redirect URI and PKCE."""

    __tablename__ = "sandbox_oauth_codes"

    code_hash: Mapped[bytes] = mapped_column(LargeBinary(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("sandbox_apps.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("sandbox_users.id"))
    redirect_uri: Mapped[str] = mapped_column(String(2000))
    scope: Mapped[str] = mapped_column(String(400))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    code_challenge_method: Mapped[str | None] = mapped_column(String(8))
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class Token(Base):
    """An access token, with a refresh token unless issued by client_credentials."""

    __tablename__ = "sandbox_oauth_tokens"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    app_id: Mapped[str] = mapped_column(ForeignKey("sandbox_apps.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(String(32))
    # authorization_code | refresh_token | client_credentials | admin: what minted it; a
    # client_credentials token passes only operations whose `security` lists that scheme.
    grant_type: Mapped[str] = mapped_column(String(32))
    access_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    refresh_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), unique=True)
    scope: Mapped[str] = mapped_column(String(400))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    access_expires_at: Mapped[datetime]
    refresh_expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
