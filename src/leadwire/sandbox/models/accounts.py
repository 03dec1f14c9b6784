"""Pinterest's side of the world: apps, users, ad accounts and their ad hierarchy."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.sandbox.models.base import Base, utcnow


class UserAccount(Base):
    """A Pinterest user who owns or administers ad accounts."""

    __tablename__ = "sandbox_users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(100), unique=True)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class App(Base):
    """A Pinterest app: OAuth client id (digits) with a hashed secret.

    `owner_id` is the user a client_credentials token acts as (Pinterest issues those for the
    app's owner); an app without an owner gets client tokens that see no ad account.
    An empty `redirect_uris` accepts any http(s) redirect URI: convenient in a sandbox.
    """

    __tablename__ = "sandbox_apps"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner_id: Mapped[str | None] = mapped_column(ForeignKey("sandbox_users.id"))
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    redirect_uris: Mapped[list[str]] = mapped_column(default=list)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class AdAccount(Base):
    """An ad account; its owner is the user whose tokens may act on it."""

    __tablename__ = "sandbox_ad_accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    owner_id: Mapped[str] = mapped_column(ForeignKey("sandbox_users.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    country: Mapped[str] = mapped_column(String(2), default="US")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)


class Campaign(Base):
    """A campaign of an ad account."""

    __tablename__ = "sandbox_campaigns"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    objective_type: Mapped[str] = mapped_column(String(32), default="CONSIDERATION")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    updated_time: Mapped[datetime] = mapped_column(default=utcnow)


class AdGroup(Base):
    """An ad group of a campaign."""

    __tablename__ = "sandbox_ad_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("sandbox_campaigns.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    updated_time: Mapped[datetime] = mapped_column(default=utcnow)


class Ad(Base):
    """An ad; a lead ad names the lead form it collects with."""

    __tablename__ = "sandbox_ads"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ad_account_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_accounts.id"), index=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("sandbox_campaigns.id"))
    ad_group_id: Mapped[str] = mapped_column(ForeignKey("sandbox_ad_groups.id"))
    lead_form_id: Mapped[str | None] = mapped_column(String(32), index=True)
    name: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="ACTIVE")
    creative_type: Mapped[str] = mapped_column(String(32), default="REGULAR")
    pin_id: Mapped[str | None] = mapped_column(String(32))
    extra: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_time: Mapped[datetime] = mapped_column(default=utcnow)
    updated_time: Mapped[datetime] = mapped_column(default=utcnow)
