"""Loading contacts within the caller's location, their tags, and HighLevel's duplicate rule."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadwire.crm.auth.principal import Principal
from leadwire.crm.errors import CrmError, not_found
from leadwire.crm.ids import is_valid_id, new_id
from leadwire.crm.models import Contact, ContactTag, CustomField, Location, utcnow
from leadwire.crm.wire.contacts import ContactFields, normalise_phone


def new_contact(location_id: str) -> Contact:
    """Return a new, empty contact of the location with every default filled in."""
    now = utcnow()
    return Contact(
        id=new_id(),
        location_id=location_id,
        type="lead",
        dnd=False,
        settings={},
        custom_fields={},
        followers=[],
        date_added=now,
        date_updated=now,
    )


def load_contact(session: Session, caller: Principal, contact_id: str) -> Contact:
    """Return the caller's contact `contact_id`; 400 for a malformed id, 404 if not theirs."""
    if not is_valid_id(contact_id):
        raise CrmError(400, f"contactId {contact_id!r} is not a valid id (20 letters and digits)")
    contact = session.get(Contact, contact_id)
    if contact is None or contact.location_id != caller.location_id:
        raise not_found("Contact", contact_id)
    return contact


def normalise_tag(tag: str) -> str:
    """Return a tag as stored: trimmed and lower-cased, as HighLevel shows tags."""
    return " ".join(tag.split()).lower()


def tags_of(session: Session, contact_id: str) -> list[str]:
    """Return the contact's tags, sorted."""
    rows = session.scalars(
        select(ContactTag.tag).where(ContactTag.contact_id == contact_id).order_by(ContactTag.tag)
    )
    return list(rows)


def add_tags(session: Session, contact: Contact, tags: Iterable[str]) -> list[str]:
    """Add `tags` to the contact (a set: no tag twice); return the tags that were new."""
    current = set(tags_of(session, contact.id))
    added: list[str] = []
    for tag in tags:
        clean = normalise_tag(tag)
        if clean and clean not in current:
            current.add(clean)
            added.append(clean)
            session.add(
                ContactTag(contact_id=contact.id, tag=clean, location_id=contact.location_id)
            )
    return added


def remove_tags(session: Session, contact: Contact, tags: Iterable[str]) -> list[str]:
    """Remove `tags` from the contact; return the tags that were there."""
    wanted = {normalise_tag(t) for t in tags}
    present = [t for t in tags_of(session, contact.id) if t in wanted]
    if present:
        session.execute(
            delete(ContactTag).where(
                ContactTag.contact_id == contact.id, ContactTag.tag.in_(present)
            )
        )
    return present


def replace_tags(session: Session, contact: Contact, tags: Iterable[str]) -> None:
    """Make the contact's tags exactly `tags` (PUT and upsert overwrite the set)."""
    session.execute(delete(ContactTag).where(ContactTag.contact_id == contact.id))
    session.flush()
    add_tags(session, contact, tags)


def find_duplicate(
    session: Session, location: Location, email: str | None, phone: str | None
) -> tuple[Contact, str] | None:
    """Return the contact matching email or phone, in the location's priority order."""
    for field in location.duplicate_priority:
        if field == "email" and email:
            column, value = Contact.email_lower, email.lower()
        elif field == "phone" and phone:
            column, value = Contact.phone, phone
        else:
            continue
        match = session.scalar(
            select(Contact)
            .where(Contact.location_id == location.id, column == value)
            .order_by(Contact.date_added)
            .limit(1)
        )
        if match is not None:
            return match, field
    return None


def resolve_custom_fields(
    session: Session, location_id: str, fields: ContactFields
) -> dict[str, Any]:
    """Return custom field values keyed by field id; 422 for an unknown id or key."""
    if not fields.customFields:
        return {}
    defined = session.execute(
        select(CustomField.id, CustomField.key).where(CustomField.location_id == location_id)
    ).all()
    by_id = {row.id for row in defined}
    by_key = {row.key: row.id for row in defined}
    by_key.update({row.key.removeprefix("contact."): row.id for row in defined})
    values: dict[str, Any] = {}
    problems: list[str] = []
    for index, item in enumerate(fields.customFields):
        if item.id is not None and item.id in by_id:
            values[item.id] = item.the_value()
        elif item.key is not None and item.key in by_key:
            values[by_key[item.key]] = item.the_value()
        else:
            which = f"id {item.id!r}" if item.id is not None else f"key {item.key!r}"
            problems.append(
                f"customFields.{index} names no custom field of this location ({which})"
            )
    if problems:
        raise CrmError(422, problems)
    return values


_COLUMNS = {
    "firstName": "first_name",
    "lastName": "last_name",
    "name": "name",
    "address1": "address1",
    "city": "city",
    "state": "state",
    "postalCode": "postal_code",
    "website": "website",
    "timezone": "timezone",
    "dnd": "dnd",
    "source": "source",
    "dateOfBirth": "date_of_birth",
    "country": "country",
    "assignedTo": "assigned_to",
    "gender": "gender",
    "companyName": "company_name",
}
_SETTINGS = ("dndSettings", "inboundDndSettings")


def apply_fields(
    session: Session, contact: Contact, fields: ContactFields, location: Location
) -> None:
    """Copy the fields the client sent onto `contact` (tags excluded: callers decide)."""
    sent = fields.model_fields_set
    for wire, column in _COLUMNS.items():
        if wire in sent:
            setattr(contact, column, getattr(fields, wire))
    if "email" in sent:
        contact.email = fields.email
        contact.email_lower = fields.email.lower() if fields.email else None
    if "phone" in sent:
        try:
            contact.phone = normalise_phone(fields.phone, fields.country or contact.country)
        except ValueError as exc:
            raise CrmError(422, [f"phone {exc}"]) from None
    settings = dict(contact.settings)
    for key in _SETTINGS:
        if key in sent:
            value = getattr(fields, key)
            settings[key] = value.model_dump(exclude_none=True) if value is not None else {}
    contact.settings = settings
    if "customFields" in sent:
        contact.custom_fields = {
            **contact.custom_fields,
            **resolve_custom_fields(session, location.id, fields),
        }
    contact.date_updated = utcnow()
