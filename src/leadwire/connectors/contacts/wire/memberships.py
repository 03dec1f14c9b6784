"""Tags, followers, campaigns, workflows and appointments of a contact, and the bulk tag update."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from leadwire.connectors.contacts.wire.base import WireIn, WireOut, WireTime


class TagsBody(WireOut):
    """Body of `POST`/`DELETE /contacts/{contactId}/tags` (TagsDTO)."""

    tags: list[str] = Field(min_length=1)


class TagList(WireIn):
    """`{"tags": [...]}`: the contact's tags after the change (the embedded CRM answers all)."""

    tags: list[str] = Field(default_factory=list)


class BulkTagAction(StrEnum):
    """The `{type}` of `POST /contacts/bulk/tags/update/{type}`."""

    ADD = "add"
    REMOVE = "remove"


class BulkTagsBody(WireOut):
    """Body of the bulk tag update (UpdateTagsDTO)."""

    contacts: list[str] = Field(min_length=1)
    tags: list[str]
    location_id: str
    remove_all_tags: bool | None = None


class BulkTagItem(WireIn):
    """What happened to one contact of a bulk tag update; `type` is `success` or `error`."""

    contact_id: str | None = None
    message: str | None = None
    type: str | None = None
    old_tags: list[str] = Field(default_factory=list)
    tags_added: list[str] = Field(default_factory=list)
    tags_removed: list[str] = Field(default_factory=list)

    @property
    def is_error(self) -> bool:
        """Tell whether this contact was not updated."""
        return self.type == "error"


class BulkTagsResult(WireIn):
    """`{"succeded", "errorCount", "responses"}` (UpdateTagsResponseDTO)."""

    succeded: bool
    error_count: int = 0
    responses: list[BulkTagItem] = Field(default_factory=list)


class FollowersBody(WireOut):
    """Body of `POST`/`DELETE /contacts/{contactId}/followers` (FollowersDTO): user ids."""

    followers: list[str] = Field(min_length=1)


class FollowersChange(WireIn):
    """The contact's followers after the change, and which were added or removed."""

    followers: list[str] = Field(default_factory=list)
    followers_added: list[str] = Field(default_factory=list)
    followers_removed: list[str] = Field(default_factory=list)


class CampaignBody(WireOut):
    """Body of `POST /contacts/{contactId}/campaigns/{campaignId}`: an empty object."""


class WorkflowBody(WireOut):
    """Body of `POST`/`DELETE /contacts/{contactId}/workflow/{workflowId}` (CreateWorkflowDto)."""

    event_start_time: WireTime | None = None


class Appointment(WireIn):
    """A calendar event of a contact (GetEventSchema).

    Times are kept as sent: the reference's examples read "2021-07-16 11:00:00", without a zone.
    """

    id: str
    calendar_id: str | None = None
    status: str | None = None
    title: str | None = None
    assigned_user_id: str | None = None
    notes: str | None = None
    start_time: str | None = None
    end_time: str | None = None
    address: str | None = None
    location_id: str | None = None
    contact_id: str | None = None
    group_id: str | None = None
    appointment_status: str | None = None
    users: list[str] = Field(default_factory=list)
    date_added: str | None = None
    date_updated: str | None = None


class AppointmentList(WireIn):
    """`{"events": [Appointment]}`."""

    events: list[Appointment] = Field(default_factory=list)
