"""Contacts API route: add contacts to a business, or take them out of theirs, in bulk.

The reference names no scope for it; it changes contacts, so it takes contacts.write. Ids that
are not contacts of the location are skipped: the answer lists the ids that were updated, and
`success` says whether that was all of them.
"""

from __future__ import annotations

from typing import Annotated

from fastapi.responses import JSONResponse
from pydantic import Field
from sqlalchemy import select

from leadwire.crm.deps import WriteDb, Writer, check_location
from leadwire.crm.errors import not_found
from leadwire.crm.events import EventType, emit
from leadwire.crm.models import Business, Contact, utcnow
from leadwire.crm.records.contacts import tags_of_many
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.common import StrictDto
from leadwire.crm.wire.contacts import contact_wire

router = CrmRouter(prefix="/contacts", tags=["Bulk"])

# HighLevel's later spec (v3) documents at most 50 ids per call; v2's says nothing.
BUSINESS_IDS_MAX = 50


class ContactsBusinessUpdate(StrictDto):
    """Body of `POST /contacts/bulk/business`; a null `businessId` removes the business."""

    locationId: str  # noqa: N815 - wire names
    ids: list[Annotated[str, Field(max_length=50)]] = Field(
        min_length=1, max_length=BUSINESS_IDS_MAX
    )
    businessId: str | None = Field(max_length=32)  # noqa: N815

    def unique_ids(self) -> list[str]:
        """Return the ids once each, in the order given."""
        return list(dict.fromkeys(self.ids))


@router.post("/bulk/business", operation_id="add-remove-contact-from-business")
def update_business_in_bulk(
    body: ContactsBusinessUpdate, caller: Writer, db: WriteDb
) -> JSONResponse:
    """Set (or, with null, clear) the business of every listed contact of the location."""
    location_id = check_location(caller, body.locationId)
    if body.businessId is not None:
        business = db.get(Business, body.businessId)
        if business is None or business.location_id != location_id:
            raise not_found("Business", body.businessId)
    wanted = body.unique_ids()
    contacts = list(
        db.scalars(
            select(Contact).where(Contact.location_id == location_id, Contact.id.in_(wanted))
        )
    )
    changed = [contact for contact in contacts if contact.business_id != body.businessId]
    now = utcnow()
    for contact in changed:
        contact.business_id = body.businessId
        contact.date_updated = now
    tags = tags_of_many(db, [contact.id for contact in changed])
    for contact in changed:
        emit(db, location_id, EventType.CONTACT_UPDATE, contact_wire(contact, tags[contact.id]))
    db.commit()
    found = {contact.id for contact in contacts}
    updated = [contact_id for contact_id in wanted if contact_id in found]
    return JSONResponse({"success": len(updated) == len(wanted), "ids": updated})
