"""What the contract suite puts straight into the embedded CRM's store: the objects the Contacts
API can reference but not create (users, campaigns, workflows, businesses, custom fields,
appointments), and a client of a tenant."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.oauth import ContactsEndpoints
from leadwire.crm.ids import new_id
from leadwire.crm.models import (
    Appointment,
    Business,
    Campaign,
    CustomField,
    User,
    Workflow,
)
from tests.crm.conftest import Tenant


def client_of(
    tenant: Tenant,
    *,
    key: str | None = None,
    transport: httpx.BaseTransport | None = None,
    on_budget: Any = None,
) -> ContactsClient:
    """Return a connector client of the tenant's location, with its read-write key."""
    return ContactsClient.with_token(
        key or tenant.key,
        tenant.location_id,
        endpoints=ContactsEndpoints.embedded(tenant.url),
        transport=transport,
        on_budget=on_budget,
    )


def _add(tenant: Tenant, row: Any) -> str:
    with tenant.server.store.sessions() as session:
        session.add(row)
        session.commit()
        row_id: str = row.id
    return row_id


def add_user(tenant: Tenant, name: str) -> str:
    return _add(tenant, User(id=new_id(), location_id=tenant.location_id, name=name, email=None))


def add_campaign(tenant: Tenant) -> str:
    return _add(tenant, Campaign(id=new_id(), location_id=tenant.location_id, name="Nurture"))


def add_workflow(tenant: Tenant) -> str:
    return _add(tenant, Workflow(id=new_id(), location_id=tenant.location_id, name="Follow-up"))


def add_business(tenant: Tenant) -> str:
    return _add(tenant, Business(id=new_id(), location_id=tenant.location_id, name="Acme"))


def add_field(tenant: Tenant, key: str, data_type: str, options: list[str]) -> str:
    field = CustomField(
        id=new_id(),
        location_id=tenant.location_id,
        key=f"contact.{key}",
        name=key,
        data_type=data_type,
        options=options,
        extra={},
    )
    return _add(tenant, field)


def book(tenant: Tenant, contact_id: str) -> str:
    start = datetime(2026, 1, 5, 15, 0, tzinfo=UTC)
    appointment = Appointment(
        id=new_id(),
        contact_id=contact_id,
        location_id=tenant.location_id,
        calendar_id="C" * 20,
        title="Consultation",
        start_time=start,
        end_time=start + timedelta(minutes=30),
        users=[],
    )
    return _add(tenant, appointment)
