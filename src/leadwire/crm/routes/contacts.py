"""Contacts: get, create (and, with the rest of the contact operations, by the same pattern)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Request
from fastapi.responses import JSONResponse

from leadwire.crm import idempotency
from leadwire.crm.deps import ReadDb, Reader, WriteDb, Writer, check_location
from leadwire.crm.errors import CrmError
from leadwire.crm.events import EventType, emit
from leadwire.crm.models import Location
from leadwire.crm.records.contacts import (
    add_tags,
    apply_fields,
    find_duplicate,
    load_contact,
    new_contact,
    tags_of,
)
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.contacts import CreateContactDto, contact_wire

router = CrmRouter(prefix="/contacts", tags=["Contacts"])

IdempotencyKey = Annotated[str | None, Header(alias=idempotency.HEADER)]


@router.get("/{contactId}", operation_id="get-contact")
def get_contact(contactId: str, caller: Reader, db: ReadDb) -> dict[str, Any]:  # noqa: N803
    """Return one contact."""
    contact = load_contact(db, caller, contactId)
    return {"contact": contact_wire(contact, tags_of(db, contact.id))}


@router.post("/", operation_id="create-contact", status_code=201)
def create_contact(
    body: CreateContactDto,
    request: Request,
    caller: Writer,
    db: WriteDb,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Create a contact; 400 with `meta.contactId` if the location forbids the duplicate."""
    location_id = check_location(caller, body.locationId)

    def create() -> tuple[int, dict[str, Any]]:
        location = db.get(Location, location_id)
        assert location is not None
        contact = new_contact(location_id)
        apply_fields(db, contact, body, location)
        if not location.allow_duplicates:
            found = find_duplicate(db, location, contact.email, contact.phone)
            if found is not None:
                match, field = found
                raise CrmError(
                    400,
                    "This location does not allow duplicated contacts.",
                    meta={
                        "contactId": match.id,
                        "contactName": match.name
                        or " ".join(p for p in (match.first_name, match.last_name) if p),
                        "matchingField": field,
                    },
                )
        db.add(contact)
        db.flush()
        add_tags(db, contact, body.tags or [])
        wire = contact_wire(contact, tags_of(db, contact.id))
        emit(db, location_id, EventType.CONTACT_CREATE, wire)
        return 201, {"contact": wire}

    digest = idempotency.fingerprint("POST", "/contacts/", body)
    return idempotency.run_once(db, caller, key, digest, create)
