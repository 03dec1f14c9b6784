"""Contacts API routes for one contact: get, create, update, delete, upsert.

The lists (`GET /contacts/`, by business, duplicate look-up) and the search are in their own
modules (`contact_lists`, `contact_search`).
Handlers answer `JSONResponse`s: the bodies are built already, and skipping FastAPI's
response validation keeps `GET /contacts/{id}` cheap.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from leadwire.crm import idempotency
from leadwire.crm.deps import ReadDb, Reader, TraceId, WriteDb, Writer, check_location
from leadwire.crm.idempotency import IdempotencyKey
from leadwire.crm.models import Location
from leadwire.crm.records import changes
from leadwire.crm.records.contacts import load_contact, load_contact_with_tags
from leadwire.crm.records.matching import lock_identities, match_for_upsert
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.contacts import (
    CreateContactDto,
    UpdateContactDto,
    UpsertContactDto,
    contact_wire,
)

router = CrmRouter(prefix="/contacts", tags=["Contacts"])


def _location(db: WriteDb, location_id: str) -> Location:
    location = db.get(Location, location_id)
    assert location is not None, "a caller's location always exists"
    return location


@router.get("/{contactId}", operation_id="get-contact")
async def get_contact(contactId: str, caller: Reader, db: ReadDb) -> JSONResponse:  # noqa: N803
    """Return one contact."""
    contact, tags = load_contact_with_tags(db, caller, contactId)
    return JSONResponse({"contact": contact_wire(contact, tags)})


@router.post("/", operation_id="create-contact", status_code=201)
def create_contact(
    body: CreateContactDto,
    caller: Writer,
    db: WriteDb,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a contact; 400 with `meta.contactId` if the location forbids the duplicate."""
    location_id = check_location(caller, body.locationId)

    def create() -> tuple[int, dict[str, Any]]:
        location = _location(db, location_id)
        wire = changes.create_contact(
            db, location, body, check_duplicates=not location.allow_duplicates
        )
        return 201, {"contact": wire}

    digest = idempotency.fingerprint("POST", "/contacts/", body)
    return idempotency.run_once(db, caller, key, digest, create)


@router.put("/{contactId}", operation_id="update-contact")
def update_contact(
    contactId: str,  # noqa: N803
    body: UpdateContactDto,
    caller: Writer,
    db: WriteDb,
) -> JSONResponse:
    """Update the fields sent; `tags` replace the contact's tags; custom fields merge."""
    contact = load_contact(db, caller, contactId)
    wire = changes.update_contact(db, _location(db, contact.location_id), contact, body)
    db.commit()
    return JSONResponse({"succeded": True, "contact": wire})


@router.delete("/{contactId}", operation_id="delete-contact")
def delete_contact(contactId: str, caller: Writer, db: WriteDb) -> JSONResponse:  # noqa: N803
    """Delete a contact with its tags, tasks, notes and memberships."""
    contact = load_contact(db, caller, contactId)
    changes.delete_contact(db, contact)
    db.commit()
    return JSONResponse({"succeded": True})


@router.post("/upsert", operation_id="upsert-contact")
def upsert_contact(
    body: UpsertContactDto,
    caller: Writer,
    db: WriteDb,
    trace: TraceId,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Update the contact the email or phone names (location's priority order), else create.

    With `createNewIfDuplicateAllowed` on a location that allows duplicates it always creates.
    When email and phone name two different contacts, the first field in the priority order
    picks the contact and the other field is left unchanged on it.
    """
    location_id = check_location(caller, body.locationId)

    def upsert() -> tuple[int, dict[str, Any]]:
        location = _location(db, location_id)
        match = None
        if not (location.allow_duplicates and body.createNewIfDuplicateAllowed):
            email, phone = changes.identity(body, None)
            lock_identities(db, location_id, email, phone)
            match = match_for_upsert(db, location, email, phone)
        if match is None:
            wire = changes.create_contact(db, location, body, check_duplicates=False)
            return 200, {"new": True, "contact": wire, "traceId": trace}
        wire = changes.update_contact(db, location, match.contact, body, skip=match.ignored)
        return 200, {"new": False, "contact": wire, "traceId": trace}

    digest = idempotency.fingerprint("POST", "/contacts/upsert", body)
    return idempotency.run_once(db, caller, key, digest, upsert)
