"""Contacts API routes: a contact's notes (list, get, create, update, delete).

Events: NoteCreate, NoteUpdate and NoteDelete, each with the note as the API shows it.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from leadwire.crm import idempotency
from leadwire.crm.deps import ReadDb, Reader, WriteDb, Writer
from leadwire.crm.events import EventType, emit
from leadwire.crm.idempotency import IdempotencyKey
from leadwire.crm.ids import new_id
from leadwire.crm.models import Note, utcnow
from leadwire.crm.records.contacts import load_contact
from leadwire.crm.records.notes import load_note, notes_of
from leadwire.crm.records.users import check_user
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.notes import CreateNoteDto, UpdateNoteDto, note_wire

router = CrmRouter(prefix="/contacts", tags=["Notes"])


@router.get("/{contactId}/notes", operation_id="get-all-notes")
async def get_all_notes(contactId: str, caller: Reader, db: ReadDb) -> dict[str, Any]:  # noqa: N803
    """Return every note of the contact, newest first (the API does not paginate them)."""
    contact = load_contact(db, caller, contactId)
    return {"notes": [note_wire(note) for note in notes_of(db, contact)]}


@router.get("/{contactId}/notes/{id}", operation_id="get-note")
async def get_note(contactId: str, id: str, caller: Reader, db: ReadDb) -> dict[str, Any]:  # noqa: N803
    """Return one note of the contact."""
    contact = load_contact(db, caller, contactId)
    return {"note": note_wire(load_note(db, contact, id))}


@router.post("/{contactId}/notes", operation_id="create-note", status_code=201)
def create_note(
    contactId: str,  # noqa: N803
    body: CreateNoteDto,
    caller: Writer,
    db: WriteDb,
    key: IdempotencyKey = None,
) -> JSONResponse:
    """Add a note to the contact; the same Idempotency-Key adds it once."""
    contact = load_contact(db, caller, contactId)

    def create() -> tuple[int, dict[str, Any]]:
        check_user(db, contact.location_id, "userId", body.userId)
        note = Note(
            id=new_id(),
            contact_id=contact.id,
            location_id=contact.location_id,
            body=body.body,
            user_id=body.userId,
            title=body.title,
            color=body.color,
            pinned=body.pinned,
            date_added=utcnow(),
        )
        db.add(note)
        db.flush()
        wire = note_wire(note)
        emit(db, contact.location_id, EventType.NOTE_CREATE, wire)
        return 201, {"note": wire}

    digest = idempotency.fingerprint("POST", f"/contacts/{contact.id}/notes", body)
    return idempotency.run_once(db, caller, key, digest, create)


@router.put("/{contactId}/notes/{id}", operation_id="update-note")
def update_note(
    contactId: str,  # noqa: N803
    id: str,
    body: UpdateNoteDto,
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Change the fields sent; leave the rest as they are."""
    contact = load_contact(db, caller, contactId)
    note = load_note(db, contact, id)
    sent = body.model_fields_set
    if "userId" in sent:
        check_user(db, contact.location_id, "userId", body.userId)
        note.user_id = body.userId
    if body.body is not None:
        note.body = body.body
    if "title" in sent:
        note.title = body.title
    if "color" in sent:
        note.color = body.color
    if body.pinned is not None:
        note.pinned = body.pinned
    db.flush()
    wire = note_wire(note)
    emit(db, contact.location_id, EventType.NOTE_UPDATE, wire)
    db.commit()
    return {"note": wire}


@router.delete("/{contactId}/notes/{id}", operation_id="delete-note")
def delete_note(
    contactId: str,  # noqa: N803
    id: str,
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Delete the note."""
    contact = load_contact(db, caller, contactId)
    note = load_note(db, contact, id)
    emit(db, contact.location_id, EventType.NOTE_DELETE, note_wire(note))
    db.delete(note)
    db.commit()
    return {"succeded": True}
