"""Notes of a contact: list, get, create, update, delete — and `ensure`, which creates a note
once however often a step is retried (see `markers`)."""

from __future__ import annotations

import logging

from leadwire.connectors.contacts.markers import Ensured, has_marker, idempotency_key, with_marker
from leadwire.connectors.contacts.session import ContactsSession, idempotency_header, path_id
from leadwire.connectors.contacts.wire.contacts import Succeeded
from leadwire.connectors.contacts.wire.notes import (
    NewNote,
    Note,
    NoteEnvelope,
    NoteList,
    NoteUpdate,
)

logger = logging.getLogger(__name__)


class NotesApi:
    """The notes of contacts (`/contacts/{contactId}/notes`)."""

    def __init__(self, session: ContactsSession) -> None:
        self._session = session

    @staticmethod
    def _path(contact_id: str, op: str, note_id: str | None = None) -> str:
        path = f"contacts/{path_id('contactId', contact_id, op)}/notes"
        return path if note_id is None else f"{path}/{path_id('id', note_id, op)}"

    def list(self, contact_id: str) -> list[Note]:
        """Return every note of the contact (the API does not paginate them)."""
        op = "get-all-notes"
        return self._session.fetch("GET", self._path(contact_id, op), NoteList, op).notes

    def get(self, contact_id: str, note_id: str) -> Note:
        """Return one note."""
        op = "get-note"
        return self._session.fetch(
            "GET", self._path(contact_id, op, note_id), NoteEnvelope, op
        ).note

    def create(self, contact_id: str, note: NewNote, *, idempotency_key: str | None = None) -> Note:
        """Add a note; the same `idempotency_key` adds it once (on CRMs that honour it)."""
        op = "create-note"
        answer = self._session.fetch(
            "POST",
            self._path(contact_id, op),
            NoteEnvelope,
            op,
            body=note.wire(),
            headers=idempotency_header(idempotency_key),
        )
        return answer.note

    def update(self, contact_id: str, note_id: str, changes: NoteUpdate) -> Note:
        """Change the fields set in `changes`."""
        op = "update-note"
        path = self._path(contact_id, op, note_id)
        return self._session.fetch("PUT", path, NoteEnvelope, op, body=changes.wire()).note

    def delete(self, contact_id: str, note_id: str) -> bool:
        """Delete the note."""
        op = "delete-note"
        path = self._path(contact_id, op, note_id)
        return self._session.fetch("DELETE", path, Succeeded, op).succeded

    def ensure(self, contact_id: str, note: NewNote, marker: str) -> Ensured[Note]:
        """Return the contact's note carrying `marker`, creating it (marked) if there is none."""
        marked = note.model_copy(update={"body": with_marker(note.body, marker)})
        for existing in self.list(contact_id):
            if has_marker(existing.body, marker):
                logger.info("contacts.ensure.found kind=note contact_id=%s", contact_id)
                return Ensured(existing, created=False)
        key = idempotency_key("note", contact_id, marker)
        created = self.create(contact_id, marked, idempotency_key=key)
        return Ensured(created, created=True)
