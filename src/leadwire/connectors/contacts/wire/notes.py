"""Notes of a contact: NotesDTO, UpdateNoteDTO and GetNoteSchema."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from leadwire.connectors.contacts.wire.base import WireIn, WireOut


class NewNote(WireOut):
    """Body of `POST /contacts/{contactId}/notes`."""

    body: str = Field(min_length=1)
    user_id: str | None = None
    title: str | None = None
    color: str | None = None
    pinned: bool | None = None


class NoteUpdate(WireOut):
    """Body of `PUT /contacts/{contactId}/notes/{id}`: only the fields set are changed."""

    body: str | None = Field(default=None, min_length=1)
    user_id: str | None = None
    title: str | None = None
    color: str | None = None
    pinned: bool | None = None


class Note(WireIn):
    """A note as the API shows it (GetNoteSchema)."""

    id: str
    body: str | None = None
    user_id: str | None = None
    date_added: datetime | None = None
    contact_id: str | None = None
    title: str | None = None
    color: str | None = None
    pinned: bool = False


class NoteEnvelope(WireIn):
    """`{"note": Note}`."""

    note: Note


class NoteList(WireIn):
    """`{"notes": [Note]}` (not paginated)."""

    notes: list[Note] = Field(default_factory=list)
