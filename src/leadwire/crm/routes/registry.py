"""Every router of the CRM, in one list, in the order they are matched.

Fixed paths (`/contacts/upsert`, `/contacts/search`, `/contacts/bulk/...`) come before the
`/contacts/{contactId}` family so they are never taken for a contact id.
"""

from __future__ import annotations

from fastapi import APIRouter

from leadwire.crm.routes import (
    appointments,
    bulk,
    bulk_tags,
    contacts,
    health,
    memberships,
    notes,
    oauth,
    openapi,
    tags,
    tasks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    openapi.router,
    oauth.router,
    bulk.router,
    bulk_tags.router,
    contacts.router,
    tasks.router,
    notes.router,
    tags.router,
    memberships.router,
    appointments.router,
]
