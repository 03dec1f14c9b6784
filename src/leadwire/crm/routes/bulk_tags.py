"""Contacts API route: add or remove tags on many contacts at once.

Each contact is reported on its own (`responses`), so one bad id does not fail the batch; the
whole call fails (422) only for a bad body, an unknown `type` or more than
`BULK_CONTACTS_MAX` contacts. The reference names no scope for it; we ask for contacts.write,
as for every other change to contacts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi.responses import JSONResponse
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadwire.crm.deps import WriteDb, Writer, check_location
from leadwire.crm.errors import unprocessable
from leadwire.crm.events import EventType, emit
from leadwire.crm.ids import is_valid_id
from leadwire.crm.models import Contact, ContactTag, utcnow
from leadwire.crm.records.contacts import add_tags, normalise_tag
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.contacts import contact_wire
from leadwire.crm.wire.tags import UpdateTagsDto, bulk_error, bulk_success

router = CrmRouter(prefix="/contacts", tags=["Bulk"])

TYPES = ("add", "remove")


@router.post("/bulk/tags/update/{type}", operation_id="create-association", status_code=201)
def update_tags_in_bulk(
    type: str,
    body: UpdateTagsDto,
    caller: Writer,
    db: WriteDb,
) -> JSONResponse:
    """Add (`type` add) or remove (`type` remove) `tags` on every contact listed."""
    if type not in TYPES:
        raise unprocessable(f"type must be one of the following values: {', '.join(TYPES)}")
    location_id = check_location(caller, body.locationId)
    remove_all = bool(body.removeAllTags)
    if remove_all and type != "remove":
        raise unprocessable("removeAllTags can only be used with the remove type")
    if not body.tags and not remove_all:
        raise unprocessable("tags should not be empty")
    found = _load_contacts(db, body.contacts)
    current = _load_tags(db, (c for c in found.values() if c.location_id == location_id))
    responses: list[dict[str, Any]] = []
    for contact_id in body.contacts:
        contact = found.get(contact_id)
        if not is_valid_id(contact_id):
            responses.append(bulk_error(contact_id, "contact id is not a valid firebase id"))
        elif contact is None:
            responses.append(bulk_error(contact_id, "contact not found"))
        elif contact.location_id != location_id:
            responses.append(bulk_error(contact_id, "contact does not belong to location"))
        else:
            responses.append(
                _update_one(db, contact, current[contact.id], type, body.tags, remove_all)
            )
    db.commit()
    errors = sum(1 for item in responses if item["type"] == "error")
    payload = {"succeded": errors == 0, "errorCount": errors, "responses": responses}
    return JSONResponse(payload, status_code=201)


def _load_contacts(session: Session, contact_ids: list[str]) -> dict[str, Contact]:
    wanted = {c for c in contact_ids if is_valid_id(c)}
    if not wanted:
        return {}
    rows = session.scalars(select(Contact).where(Contact.id.in_(wanted)))
    return {contact.id: contact for contact in rows}


def _load_tags(session: Session, contacts: Iterable[Contact]) -> dict[str, set[str]]:
    # One query for the whole batch instead of one per contact.
    tags: dict[str, set[str]] = {contact.id: set() for contact in contacts}
    if tags:
        rows = session.execute(
            select(ContactTag.contact_id, ContactTag.tag).where(ContactTag.contact_id.in_(tags))
        )
        for contact_id, tag in rows:
            tags[contact_id].add(tag)
    return tags


def _update_one(
    session: Session,
    contact: Contact,
    current: set[str],
    kind: str,
    tags: list[str],
    remove_all: bool,
) -> dict[str, Any]:
    """Change the contact's tags (`current` is kept up to date) and report it."""
    old = sorted(current)
    wanted = list(dict.fromkeys(normalise_tag(t) for t in tags))
    added: list[str] = []
    removed: list[str] = []
    if kind == "add":
        # Inserted with ON CONFLICT DO NOTHING: another request may add the same tag to the
        # same contact meanwhile (the single route, another bulk one).
        added = add_tags(session, contact, [t for t in wanted if t not in current])
        current.update(added)
    else:
        removed = old if remove_all else [t for t in old if t in set(wanted)]
        if removed:
            session.execute(
                delete(ContactTag).where(
                    ContactTag.contact_id == contact.id, ContactTag.tag.in_(removed)
                )
            )
        current.difference_update(removed)
    if added or removed:
        contact.date_updated = utcnow()
        wire = contact_wire(contact, sorted(current))
        emit(session, contact.location_id, EventType.CONTACT_TAG_UPDATE, wire)
    return bulk_success(contact.id, old, added, removed)
