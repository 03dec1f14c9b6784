"""Tag request DTOs (TagsDTO, UpdateTagsDTO) and the per-contact items of a bulk tag update."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from leadwire.crm.records.contacts import normalise_tag
from leadwire.crm.wire.common import StrictDto

TAG_MAX = 200  # the width of crm_contact_tags.tag
TAGS_PER_REQUEST_MAX = 1000
# HighLevel documents no maximum for the bulk update (highlevel-api-docs#315); ours is this.
BULK_CONTACTS_MAX = 500


def check_tags(values: list[str]) -> list[str]:
    """Return `values` if every tag is usable; ValueError naming the first problem if not."""
    for value in values:
        clean = normalise_tag(value)
        if not clean:
            raise ValueError("must not contain an empty tag")
        if len(clean) > TAG_MAX:
            raise ValueError(f"must not contain a tag longer than {TAG_MAX} characters")
    return values


class TagsDto(StrictDto):
    """Body of `POST` and `DELETE /contacts/{contactId}/tags`."""

    tags: list[str] = Field(min_length=1, max_length=TAGS_PER_REQUEST_MAX)

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        return check_tags(values)


class UpdateTagsDto(StrictDto):
    """Body of `POST /contacts/bulk/tags/update/{type}`."""

    contacts: list[str] = Field(min_length=1, max_length=BULK_CONTACTS_MAX)
    tags: list[str] = Field(max_length=TAGS_PER_REQUEST_MAX)
    locationId: str  # noqa: N815 - wire name
    removeAllTags: bool | None = None  # noqa: N815

    @field_validator("tags")
    @classmethod
    def _tags(cls, values: list[str]) -> list[str]:
        return check_tags(values)


def bulk_error(contact_id: str, message: str) -> dict[str, Any]:
    """Return the item of a contact the bulk update could not change."""
    return {"contactId": contact_id, "message": message, "type": "error"}


def bulk_success(
    contact_id: str, old_tags: list[str], added: list[str], removed: list[str]
) -> dict[str, Any]:
    """Return the item of a contact the bulk update processed."""
    return {
        "contactId": contact_id,
        "message": "Tags updated",
        "type": "success",
        "oldTags": old_tags,
        "tagsAdded": added,
        "tagsRemoved": removed,
    }
