"""Contacts within the caller's location: loading, tags, and copying request fields onto one."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from leadwire.crm.auth.principal import Principal
from leadwire.crm.errors import CrmError, not_found
from leadwire.crm.ids import is_valid_id, new_id
from leadwire.crm.models import Contact, ContactTag, Location, utcnow
from leadwire.crm.records.custom_fields import merge_custom_fields, resolve_custom_fields
from leadwire.crm.records.matching import find_duplicate
from leadwire.crm.records.users import check_user
from leadwire.crm.wire.contacts import ContactFields, normalise_phone, normalise_tag

# Kept importable from here: other modules of the CRM use these names from this module.
__all__ = [
    "add_tags",
    "apply_fields",
    "find_duplicate",
    "load_contact",
    "load_contact_with_tags",
    "new_contact",
    "normalise_tag",
    "remove_tags",
    "replace_tags",
    "resolve_custom_fields",
    "tags_of",
    "tags_of_many",
]


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


def load_contact_with_tags(
    session: Session, caller: Principal, contact_id: str
) -> tuple[Contact, list[str]]:
    """Return the caller's contact and its sorted tags in one query; 400/404 as load_contact."""
    if not is_valid_id(contact_id):
        raise CrmError(400, f"contactId {contact_id!r} is not a valid id (20 letters and digits)")
    rows = session.execute(_WITH_TAGS, {"contact_id": contact_id}).all()
    if not rows or rows[0][0].location_id != caller.location_id:
        raise not_found("Contact", contact_id)
    return rows[0][0], [tag for _, tag in rows if tag is not None]


# Built once: GET /contacts/{id} is the hottest read, and building costs as much as running.
_WITH_TAGS = (
    select(Contact, ContactTag.tag)
    .outerjoin(ContactTag, ContactTag.contact_id == Contact.id)
    .where(Contact.id == bindparam("contact_id"))
    .order_by(ContactTag.tag)
)
_TAGS = (
    select(ContactTag.tag)
    .where(ContactTag.contact_id == bindparam("contact_id"))
    .order_by(ContactTag.tag)
)


def tags_of(session: Session, contact_id: str) -> list[str]:
    """Return the contact's tags, sorted."""
    return list(session.scalars(_TAGS, {"contact_id": contact_id}))


def tags_of_many(session: Session, contact_ids: Collection[str]) -> dict[str, list[str]]:
    """Return the sorted tags of each contact in one query (every id is a key)."""
    found: dict[str, list[str]] = defaultdict(list)
    if contact_ids:
        rows = session.execute(
            select(ContactTag.contact_id, ContactTag.tag)
            .where(ContactTag.contact_id.in_(contact_ids))
            .order_by(ContactTag.contact_id, ContactTag.tag)
        )
        for contact_id, tag in rows:
            found[contact_id].append(tag)
    return {contact_id: found.get(contact_id, []) for contact_id in contact_ids}


def _clean_tags(tags: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(clean for clean in map(normalise_tag, tags) if clean))


def _insert_tags(session: Session, contact: Contact, clean: Iterable[str]) -> list[str]:
    """Insert the tags the contact lacks; return those, in the order given.

    `ON CONFLICT DO NOTHING` rather than read-then-insert: two requests adding one tag to one
    contact at once would otherwise both insert it, and the second would fail on PostgreSQL.
    """
    wanted = list(clean)
    if not wanted:
        return []
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    statement = (
        insert(ContactTag)
        .values(
            [
                {"contact_id": contact.id, "tag": t, "location_id": contact.location_id}
                for t in wanted
            ]
        )
        .on_conflict_do_nothing()
        .returning(ContactTag.tag)
    )
    inserted = set(session.scalars(statement))
    return [t for t in wanted if t in inserted]


def add_tags(session: Session, contact: Contact, tags: Iterable[str]) -> list[str]:
    """Add `tags` to the contact (a set: no tag twice); return the tags that were new."""
    return _insert_tags(session, contact, _clean_tags(tags))


def add_tags_to_new(session: Session, contact: Contact, tags: Iterable[str]) -> list[str]:
    """Tag a contact created in this transaction (it has none yet); return its sorted tags."""
    return sorted(_insert_tags(session, contact, _clean_tags(tags)))


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
    set_tags(session, contact, tags, tags_of(session, contact.id))


def set_tags(
    session: Session, contact: Contact, tags: Iterable[str], current: list[str]
) -> list[str]:
    """Make the tags exactly `tags`, knowing the `current` ones; return the new sorted set.

    Only the difference is written, so tags that stay keep their rows.
    """
    wanted = _clean_tags(tags)
    present = set(current)
    gone = sorted(present - set(wanted))
    if gone:
        session.execute(
            delete(ContactTag).where(ContactTag.contact_id == contact.id, ContactTag.tag.in_(gone))
        )
    _insert_tags(session, contact, [tag for tag in wanted if tag not in present])
    return sorted(wanted)


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
    session: Session,
    contact: Contact,
    fields: ContactFields,
    location: Location,
    *,
    skip: Collection[str] = (),
) -> None:
    """Copy the fields the client sent (but those in `skip`) onto `contact`; tags excluded."""
    sent = fields.model_fields_set - set(skip)
    if "assignedTo" in sent:
        check_user(session, location.id, "assignedTo", fields.assignedTo)
    for wire, column in _COLUMNS.items():
        if wire in sent:
            value = getattr(fields, wire)
            if wire == "dnd" and value is None:
                continue  # dnd is not nullable: null leaves it as it is
            setattr(contact, column, value)
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
        changes = resolve_custom_fields(session, location.id, fields.customFields)
        contact.custom_fields = merge_custom_fields(contact.custom_fields, changes)
    contact.date_updated = utcnow()
