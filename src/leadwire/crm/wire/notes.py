"""Note request DTOs (NotesDTO, UpdateNoteDTO) and the note's read shape (GetNoteSchema)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from leadwire.crm.models import Note
from leadwire.crm.wire.common import StrictDto, iso_ms

BODY_MAX = 50_000
TITLE_MAX = 500
COLOR_MAX = 32


class CreateNoteDto(StrictDto):
    """Body of `POST /contacts/{contactId}/notes`."""

    body: str = Field(min_length=1, max_length=BODY_MAX)
    userId: str | None = None  # noqa: N815 - wire names
    title: str | None = Field(default=None, max_length=TITLE_MAX)
    color: str | None = Field(default=None, max_length=COLOR_MAX)
    pinned: bool = False


class UpdateNoteDto(StrictDto):
    """Body of `PUT /contacts/{contactId}/notes/{id}`: every field optional."""

    body: str | None = Field(default=None, min_length=1, max_length=BODY_MAX)
    userId: str | None = None  # noqa: N815 - wire names
    title: str | None = Field(default=None, max_length=TITLE_MAX)
    color: str | None = Field(default=None, max_length=COLOR_MAX)
    pinned: bool | None = None

    @field_validator("body", "pinned", mode="before")
    @classmethod
    def _not_null(cls, value: object) -> object:
        # A note always has a body and a pinned flag: an explicit null cannot apply.
        if value is None:
            raise ValueError("should not be empty")
        return value


def note_wire(note: Note) -> dict[str, Any]:
    """Return the note as the API shows it, and as Note* webhook events carry it."""
    return {
        "id": note.id,
        "body": note.body,
        "userId": note.user_id,
        "dateAdded": iso_ms(note.date_added),
        "contactId": note.contact_id,
        "title": note.title,
        "color": note.color,
        "pinned": note.pinned,
    }
