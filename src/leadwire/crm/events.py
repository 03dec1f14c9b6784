"""CRM events: written to the webhook outbox in the same transaction as the change they tell of.

Event type names and payloads follow HighLevel's marketplace webhooks (`docs/webhook events/`
in GoHighLevel/highlevel-api-docs): a flat object with `type`, `locationId` and the documented
fields of the object — contacts (ContactCreate.md ...), tasks (TaskCreate.md ...) and notes
(NoteCreate.md ...). Callers pass the object's API wire shape; `webhook_payload` keeps the
documented fields, drops null ones (HighLevel omits unset fields) and adds `webhookId` (the
delivery id, the same on every retry, for receivers to dedupe on). `timestamp` is added per
attempt at send time, so a receiver's replay window (the guide suggests 5 minutes) holds for
retries too. Delivery, signing and retries are in `leadwire.crm.webhooks`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.ids import new_id
from leadwire.crm.models import WebhookDelivery, WebhookSubscription, utcnow
from leadwire.crm.webhooks import wakeups


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


# The properties of each event's documented schema, besides `type` and `locationId`.
_CONTACT_FIELDS = (
    "id",
    "address1",
    "city",
    "companyName",
    "country",
    "source",
    "dateAdded",
    "dateOfBirth",
    "dnd",
    "email",
    "name",
    "firstName",
    "lastName",
    "phone",
    "phoneLabel",
    "postalCode",
    "state",
    "tags",
    "website",
    "attachments",
    "assignedTo",
    "customFields",
)
_TASK_FIELDS = ("id", "assignedTo", "body", "contactId", "title", "dateAdded", "dueDate")
_NOTE_FIELDS = ("id", "body", "contactId", "dateAdded")
# Lists the schemas always show, even when empty.
_CONTACT_LISTS = ("tags", "attachments", "customFields")

FIELDS: dict[EventType, tuple[str, ...]] = {
    EventType.CONTACT_CREATE: _CONTACT_FIELDS,
    EventType.CONTACT_UPDATE: _CONTACT_FIELDS,
    EventType.CONTACT_DELETE: _CONTACT_FIELDS,
    EventType.CONTACT_TAG_UPDATE: _CONTACT_FIELDS,
    EventType.CONTACT_DND_UPDATE: (*_CONTACT_FIELDS, "dndSettings", "inboundDndSettings"),
    EventType.TASK_CREATE: _TASK_FIELDS,
    EventType.TASK_COMPLETE: _TASK_FIELDS,
    EventType.TASK_DELETE: _TASK_FIELDS,
    EventType.NOTE_CREATE: _NOTE_FIELDS,
    EventType.NOTE_UPDATE: _NOTE_FIELDS,
    EventType.NOTE_DELETE: _NOTE_FIELDS,
}


def webhook_payload(event: EventType, location_id: str, data: dict[str, Any]) -> dict[str, Any]:
    """Return the body HighLevel documents for `event`, from the object's API wire shape."""
    payload: dict[str, Any] = {"type": event.value, "locationId": location_id}
    for name in FIELDS[event]:
        value = data.get(name)
        if value is None and name in _CONTACT_LISTS:
            value = []
        if value is not None:
            payload[name] = value
    return payload


def emit(session: Session, location_id: str, event: EventType, data: dict[str, Any]) -> int:
    """Queue `event` for every active subscription of the location; return how many."""
    subscriptions = session.execute(
        select(WebhookSubscription.id, WebhookSubscription.events).where(
            WebhookSubscription.location_id == location_id,
            WebhookSubscription.is_active.is_(True),
        )
    ).all()
    now = utcnow()
    payload = webhook_payload(event, location_id, data)
    queued = 0
    for sub_id, events in subscriptions:
        if events and event.value not in events:
            continue
        delivery_id = new_id()
        session.add(
            WebhookDelivery(
                id=delivery_id,
                subscription_id=sub_id,
                event_type=event.value,
                payload={**payload, "webhookId": delivery_id},
                status="pending",
                attempts=0,
                next_attempt_at=now,
                date_added=now,
            )
        )
        queued += 1
    if queued:
        wakeups.mark_queued(session)
    return queued
