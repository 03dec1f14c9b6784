"""Contacts API routes: add tags to one contact and remove tags from it.

Both answer the contact's full tag set after the change, not only the tags affected: the
reference leaves this open, and the full set lets a client see the result without a GET.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from leadwire.crm.deps import WriteDb, Writer
from leadwire.crm.events import EventType, emit
from leadwire.crm.models import Contact, utcnow
from leadwire.crm.records.contacts import add_tags, load_contact, remove_tags, tags_of
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.contacts import contact_wire
from leadwire.crm.wire.tags import TagsDto

router = CrmRouter(prefix="/contacts", tags=["Tags"])


@router.post("/{contactId}/tags", operation_id="add-tags", status_code=201)
def add_contact_tags(
    contactId: str,  # noqa: N803
    body: TagsDto,
    caller: Writer,
    db: WriteDb,
) -> JSONResponse:
    """Add tags (a set: a tag already there stays once); answer the contact's tags."""
    contact = load_contact(db, caller, contactId)
    changed = add_tags(db, contact, body.tags)
    tags = _after_change(db, contact, bool(changed))
    db.commit()
    return JSONResponse({"tags": tags}, status_code=201)


@router.delete("/{contactId}/tags", operation_id="remove-tags")
def remove_contact_tags(
    contactId: str,  # noqa: N803
    body: TagsDto,
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Remove tags (ones not on the contact are ignored); answer the contact's tags."""
    contact = load_contact(db, caller, contactId)
    changed = remove_tags(db, contact, body.tags)
    tags = _after_change(db, contact, bool(changed))
    db.commit()
    return {"tags": tags}


def _after_change(session: Session, contact: Contact, changed: bool) -> list[str]:
    """Return the contact's tags; if they changed, touch the contact and send ContactTagUpdate."""
    session.flush()
    tags = tags_of(session, contact.id)
    if changed:
        contact.date_updated = utcnow()
        emit(
            session, contact.location_id, EventType.CONTACT_TAG_UPDATE, contact_wire(contact, tags)
        )
    return tags
