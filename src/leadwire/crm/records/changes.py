"""Creating, updating and deleting contacts, each with the events it sends.

Shared by create, update, upsert and delete so that the duplicate rule, tag handling and
events are the same whichever operation changed a contact. Nothing here commits.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError
from leadwire.crm.events import EventType, emit
from leadwire.crm.models import Contact, Location
from leadwire.crm.records.contacts import (
    add_tags_to_new,
    apply_fields,
    new_contact,
    set_tags,
    tags_of,
)
from leadwire.crm.records.matching import duplicate_error, find_duplicate, lock_identities
from leadwire.crm.wire.contacts import ContactFields, contact_wire, normalise_phone


def identity(fields: ContactFields, country: str | None) -> tuple[str | None, str | None]:
    """Return the email and E.164 phone a request names (None if not sent); 422 bad phone."""
    try:
        phone = normalise_phone(fields.phone, fields.country or country)
    except ValueError as exc:
        raise CrmError(422, [f"phone {exc}"]) from None
    return fields.email, phone


def _dnd_state(contact: Contact) -> tuple[Any, ...]:
    settings = contact.settings
    return contact.dnd, settings.get("dndSettings"), settings.get("inboundDndSettings")


def create_contact(
    session: Session, location: Location, fields: ContactFields, *, check_duplicates: bool
) -> dict[str, Any]:
    """Create a contact from `fields`; return its wire form. 400 if it would be a duplicate."""
    contact = new_contact(location.id)
    if check_duplicates:
        email, phone = identity(fields, None)
        lock_identities(session, location.id, email, phone)
        found = find_duplicate(session, location, email, phone)
        if found is not None:
            raise duplicate_error(*found)
    apply_fields(session, contact, fields, location)
    session.add(contact)
    # The contact row must exist before its tag rows reference it (PostgreSQL checks at once).
    session.flush()
    tags = add_tags_to_new(session, contact, fields.tags or [])
    wire = contact_wire(contact, tags)
    emit(session, location.id, EventType.CONTACT_CREATE, wire)
    return wire


def update_contact(
    session: Session,
    location: Location,
    contact: Contact,
    fields: ContactFields,
    *,
    skip: Collection[str] = (),
) -> dict[str, Any]:
    """Apply `fields` (but `skip`) to `contact`; tags sent replace the set. Return its wire form.

    On a location that forbids duplicates, a new email or phone that another contact holds is
    refused with HighLevel's 400.
    """
    sent = fields.model_fields_set - set(skip)
    if not location.allow_duplicates and sent & {"email", "phone"}:
        email, phone = identity(fields, contact.country)
        new_email = (
            email if "email" in sent and email and email.lower() != contact.email_lower else None
        )
        new_phone = phone if "phone" in sent and phone and phone != contact.phone else None
        if new_email or new_phone:
            lock_identities(session, location.id, new_email, new_phone)
            found = find_duplicate(session, location, new_email, new_phone, exclude_id=contact.id)
            if found is not None:
                raise duplicate_error(*found)
    old_tags = tags_of(session, contact.id)
    dnd_before = _dnd_state(contact)
    apply_fields(session, contact, fields, location, skip=skip)
    tags = old_tags
    if "tags" in sent and fields.tags is not None:
        tags = set_tags(session, contact, fields.tags, old_tags)
    wire = contact_wire(contact, tags)
    emit(session, location.id, EventType.CONTACT_UPDATE, wire)
    if tags != old_tags:
        emit(session, location.id, EventType.CONTACT_TAG_UPDATE, wire)
    if _dnd_state(contact) != dnd_before:
        emit(session, location.id, EventType.CONTACT_DND_UPDATE, wire)
    return wire


def delete_contact(session: Session, contact: Contact) -> None:
    """Delete the contact; its tags, tasks, notes, appointments and memberships go with it."""
    wire = contact_wire(contact, tags_of(session, contact.id))
    # The foreign keys cascade (SQLite runs with foreign_keys=ON), so one statement does it.
    session.execute(delete(Contact).where(Contact.id == contact.id))
    session.expunge(contact)
    emit(session, contact.location_id, EventType.CONTACT_DELETE, wire)
