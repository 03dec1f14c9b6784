"""Event webhooks: subscriptions of a location, and the outbox of deliveries to make."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.crm.models.base import Base, utcnow


class WebhookSubscription(Base):
    """A URL that receives the listed event types of a location."""

    __tablename__ = "crm_webhook_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("crm_locations.id"), index=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Event type names as HighLevel spells them (ContactCreate, TaskComplete, ...); empty = all.
    events: Mapped[list[str]] = mapped_column(default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event to deliver to one subscription: written in the same transaction as the change."""

    __tablename__ = "crm_webhook_deliveries"
    __table_args__ = (Index("ix_crm_webhook_deliveries_due", "status", "next_attempt_at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    subscription_id: Mapped[str] = mapped_column(
        ForeignKey("crm_webhook_subscriptions.id", ondelete="CASCADE"), index=True
    )
    event_type: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]]
    # pending -> delivered | failed (attempts exhausted or a 4xx other than 429).
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_status_code: Mapped[int | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    date_added: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
