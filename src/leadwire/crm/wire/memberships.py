"""Request DTOs of followers, campaign and workflow membership (FollowersDTO and the rest)."""

from __future__ import annotations

from pydantic import Field

from leadwire.crm.wire.common import StrictDto
from leadwire.crm.wire.dates import IsoDateTime

FOLLOWERS_PER_REQUEST_MAX = 100


class FollowersDto(StrictDto):
    """Body of `POST` and `DELETE /contacts/{contactId}/followers`: user ids."""

    followers: list[str] = Field(min_length=1, max_length=FOLLOWERS_PER_REQUEST_MAX)


class AddToCampaignDto(StrictDto):
    """Body of `POST /contacts/{contactId}/campaigns/{campaignId}`: an empty object."""


class WorkflowDto(StrictDto):
    """Body of `POST`/`DELETE /contacts/{contactId}/workflow/{workflowId}` (CreateWorkflowDto)."""

    eventStartTime: IsoDateTime | None = None  # noqa: N815 - wire name
