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
    contact_lists,
    contact_search,
    contacts,
    health,
    memberships,
    notes,
    oauth,
    openapi,
    tags,
    tasks,
    webhooks,
)

ROUTERS: list[APIRouter] = [
    health.router,
    webhooks.router,
    openapi.router,
    oauth.router,
    bulk.router,
    bulk_tags.router,
    contact_lists.router,
    contact_search.router,
    contacts.router,
    tasks.router,
    notes.router,
    tags.router,
    memberships.router,
    appointments.router,
]
