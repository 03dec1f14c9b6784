"""Loading a contact's notes."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError, not_found
from leadwire.crm.ids import is_valid_id
from leadwire.crm.models import Contact, Note


def load_note(session: Session, contact: Contact, note_id: str) -> Note:
    """Return the contact's note `note_id`; 422 for a malformed id, 404 if not the contact's.

    A malformed note id is a 400, like every malformed id (the reference documents 400 on every
    note operation too).
    """
    if not is_valid_id(note_id):
        raise CrmError(400, f"id {note_id!r} is not a valid id (20 letters and digits)")
    note = session.get(Note, note_id)
    if note is None or note.contact_id != contact.id:
        raise not_found("Note", note_id)
    return note


def notes_of(session: Session, contact: Contact) -> list[Note]:
    """Return the contact's notes, newest first."""
    return list(
        session.scalars(
            select(Note)
            .where(Note.contact_id == contact.id)
            .order_by(Note.date_added.desc(), Note.id.desc())
        )
    )
