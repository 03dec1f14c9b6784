"""What the tests of a contact's sub-resources share: contacts, users, webhook outbox rows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
from sqlalchemy import select

from leadwire.crm.ids import new_id
from leadwire.crm.models import User, WebhookDelivery, WebhookSubscription
from tests.crm.conftest import Tenant

MISSING_ID = "Z" * 20


def make_contact(tenant: Tenant, api: httpx.Client, **fields: Any) -> str:
    """Create a contact through the API; return its id."""
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 201, answer.text
    contact_id: str = answer.json()["contact"]["id"]
    return contact_id


def add_user(tenant: Tenant, name: str = "Grace Hopper") -> str:
    """Create a user of the tenant's location; return its id."""
    with tenant.server.store.sessions() as session:
        user = User(id=new_id(), location_id=tenant.location_id, name=name, email=None)
        session.add(user)
        session.commit()
        return user.id


def subscribe(tenant: Tenant, events: list[str] | None = None) -> str:
    """Register a webhook subscription of the tenant's location; return its id."""
    with tenant.server.store.sessions() as session:
        sub = WebhookSubscription(
            id=new_id(),
            location_id=tenant.location_id,
            url="http://127.0.0.1:9/hook",
            events=events or [],
            is_active=True,
        )
        session.add(sub)
        session.commit()
        return sub.id


def deliveries(tenant: Tenant, subscription_id: str) -> list[dict[str, Any]]:
    """Return the payloads queued for the subscription."""
    with tenant.server.store.read_sessions() as session:
        rows = session.scalars(
            select(WebhookDelivery.payload).where(
                WebhookDelivery.subscription_id == subscription_id
            )
        )
        return list(rows)


def event_counts(tenant: Tenant, subscription_id: str) -> Counter[str]:
    """Return how many events of each type were queued for the subscription."""
    return Counter(p["type"] for p in deliveries(tenant, subscription_id))
