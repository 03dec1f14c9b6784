"""HighLevel's duplicate rule: which existing contact an email or a phone names, per location.

A location lists the fields that identify a contact, in priority order (`duplicate_priority`,
default email then phone). The oldest contact holding a value is the one it names.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, select, text
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError
from leadwire.crm.models import Contact, Location

IDENTITY_FIELDS = ("email", "phone")
DUPLICATE_MESSAGE = "This location does not allow duplicated contacts."


def identity_order(location: Location) -> list[str]:
    """Return the fields that identify a contact in this location, highest priority first."""
    return [field for field in location.duplicate_priority if field in IDENTITY_FIELDS]


def _column_value(field: str, email: str | None, phone: str | None) -> str | None:
    if field == "email":
        return email.lower() if email else None
    return phone or None


def _holding(field: str, *, excluding: bool) -> Select[Contact]:
    column = Contact.email_lower if field == "email" else Contact.phone
    query = select(Contact).where(
        Contact.location_id == bindparam("location_id"), column == bindparam("value")
    )
    if excluding:
        query = query.where(Contact.id != bindparam("exclude_id"))
    return query.order_by(Contact.date_added, Contact.id).limit(1)


# Built once: these run on every upsert, and building a statement costs more than running it.
_HOLDING = {
    (field, excluding): _holding(field, excluding=excluding)
    for field in IDENTITY_FIELDS
    for excluding in (False, True)
}


def contact_holding(
    session: Session,
    location_id: str,
    field: str,
    value: str,
    *,
    exclude_id: str | None = None,
) -> Contact | None:
    """Return the oldest contact of the location whose `field` (email or phone) is `value`."""
    statement = _HOLDING[field, exclude_id is not None]
    params = {"location_id": location_id, "value": value, "exclude_id": exclude_id}
    return session.scalar(statement, params)


def find_duplicate(
    session: Session,
    location: Location,
    email: str | None,
    phone: str | None,
    *,
    exclude_id: str | None = None,
    order: list[str] | None = None,
) -> tuple[Contact, str] | None:
    """Return the contact matching email or phone, and the field, in the location's order."""
    for field in identity_order(location) if order is None else order:
        value = _column_value(field, email, phone)
        if value:
            match = contact_holding(session, location.id, field, value, exclude_id=exclude_id)
            if match is not None:
                return match, field
    return None


@dataclass(frozen=True)
class UpsertMatch:
    """The contact an upsert updates, the field that named it, and fields to leave alone."""

    contact: Contact
    field: str
    # Wire names of identity fields whose value belongs to another contact: the reference
    # says the upsert "ignores the second field to prevent duplication".
    ignored: frozenset[str]


def match_for_upsert(
    session: Session, location: Location, email: str | None, phone: str | None
) -> UpsertMatch | None:
    """Return what an upsert with this email and phone updates, or None to create."""
    order = identity_order(location)
    found = find_duplicate(session, location, email, phone, order=order)
    if found is None:
        return None
    contact, field = found
    ignored: set[str] = set()
    for other in order:
        value = _column_value(other, email, phone)
        current = contact.email_lower if other == "email" else contact.phone
        if other == field or not value or value == current:
            continue
        if contact_holding(session, location.id, other, value, exclude_id=contact.id):
            ignored.add(other)
    return UpsertMatch(contact, field, frozenset(ignored))


def duplicate_error(match: Contact, field: str) -> CrmError:
    """Return the 400 HighLevel answers when a write would duplicate `match`."""
    name = match.name or " ".join(p for p in (match.first_name, match.last_name) if p)
    return CrmError(
        400,
        DUPLICATE_MESSAGE,
        meta={"contactId": match.id, "contactName": name, "matchingField": field},
    )


def _lock_key(location_id: str, field: str, value: str) -> int:
    digest = hashlib.blake2b(f"{location_id}|{field}|{value}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def lock_identities(
    session: Session, location_id: str, email: str | None, phone: str | None
) -> None:
    """Serialise writers of the same email or phone in a location until this transaction ends.

    SQLite needs nothing: write transactions take the database lock at BEGIN. PostgreSQL
    runs them side by side, so two upserts of one new lead could both find no match and both
    create; a transaction-scoped advisory lock per value makes the second wait and then see
    the first one's contact. Keys are taken in sorted order so two writers cannot deadlock.
    """
    if session.get_bind().dialect.name != "postgresql":
        return
    keys = sorted(
        _lock_key(location_id, field, value)
        for field in IDENTITY_FIELDS
        if (value := _column_value(field, email, phone))
    )
    for key in keys:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})
