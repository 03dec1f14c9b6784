"""CRM events: written to the webhook outbox in the same transaction as the change they tell of.

Event type names and payloads follow HighLevel's marketplace webhooks (`docs/webhook events/`
in GoHighLevel/highlevel-api-docs): a flat object with `type`, `locationId` and the object's
fields. Delivery, signing and retries are in `leadwire.crm.webhooks`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.ids import new_id
from leadwire.crm.models import WebhookDelivery, WebhookSubscription, utcnow


class EventType(StrEnum):
    """The event types this CRM sends."""

    CONTACT_CREATE = "ContactCreate"
    CONTACT_UPDATE = "ContactUpdate"
    CONTACT_DELETE = "ContactDelete"
    CONTACT_TAG_UPDATE = "ContactTagUpdate"
    CONTACT_DND_UPDATE = "ContactDndUpdate"
    TASK_CREATE = "TaskCreate"
    TASK_COMPLETE = "TaskComplete"
    TASK_DELETE = "TaskDelete"
    NOTE_CREATE = "NoteCreate"
    NOTE_UPDATE = "NoteUpdate"
    NOTE_DELETE = "NoteDelete"


def emit(session: Session, location_id: str, event: EventType, data: dict[str, Any]) -> int:
    """Queue `event` for every active subscription of the location; return how many."""
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.location_id == location_id,
            WebhookSubscription.is_active.is_(True),
        )
    ).all()
    now = utcnow()
    payload = {"type": event.value, "locationId": location_id, **data}
    queued = 0
    for sub_id, events in subscriptions:
        if events and event.value not in events:
            continue
        session.add(
            WebhookDelivery(
                id=new_id(),
                subscription_id=sub_id,
                event_type=event.value,
                payload=payload,
                next_attempt_at=now,
                date_added=now,
            )
        )
        queued += 1
    return queued
