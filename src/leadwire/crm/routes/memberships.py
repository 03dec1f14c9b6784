"""Contacts API routes: a contact's followers, campaigns and workflows.

Followers are users of the location. Campaigns and workflows are objects of the location;
an id that is not one of them is a 404. Joining twice or leaving what the contact is not in
succeeds: these are sets, and leadwire's retries rely on writes being idempotent.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from leadwire.crm.deps import WriteDb, Writer
from leadwire.crm.errors import unprocessable
from leadwire.crm.models import utcnow
from leadwire.crm.records.contacts import load_contact
from leadwire.crm.records.memberships import (
    enrol,
    join_campaign,
    leave_campaigns,
    load_campaign,
    load_workflow,
    unenrol,
)
from leadwire.crm.records.users import unknown_users
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.memberships import AddToCampaignDto, FollowersDto, WorkflowDto

router = CrmRouter(prefix="/contacts")


@router.post(
    "/{contactId}/followers",
    operation_id="add-followers-contact",
    status_code=201,
    tags=["Followers"],
)
def add_followers(
    contactId: str,  # noqa: N803
    body: FollowersDto,
    caller: Writer,
    db: WriteDb,
) -> JSONResponse:
    """Add users as followers of the contact; 422 if one is not a user of the location."""
    contact = load_contact(db, caller, contactId)
    unknown = unknown_users(db, contact.location_id, body.followers)
    if unknown:
        raise unprocessable(*(f"followers {u!r} is not a user of this location" for u in unknown))
    current = list(contact.followers)
    added = [u for u in dict.fromkeys(body.followers) if u not in current]
    if added:
        contact.followers = current + added
        contact.date_updated = utcnow()
    db.commit()
    payload = {"followers": list(contact.followers), "followersAdded": added}
    return JSONResponse(payload, status_code=201)


@router.delete(
    "/{contactId}/followers", operation_id="remove-followers-contact", tags=["Followers"]
)
def remove_followers(
    contactId: str,  # noqa: N803
    body: FollowersDto,
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Remove followers from the contact; ids that do not follow it are ignored.

    Unlike adding, removing does not require the ids to be users still: a user who has left
    the location must remain removable.
    """
    contact = load_contact(db, caller, contactId)
    gone = set(body.followers)
    removed = [u for u in contact.followers if u in gone]
    if removed:
        contact.followers = [u for u in contact.followers if u not in gone]
        contact.date_updated = utcnow()
    db.commit()
    return {"followers": list(contact.followers), "followersRemoved": removed}


# Before `/{contactId}/campaigns/{campaignId}`, so `removeAll` is never taken for a campaign id.
@router.delete(
    "/{contactId}/campaigns/removeAll",
    operation_id="remove-contact-from-every-campaign",
    tags=["Campaigns"],
)
def remove_from_every_campaign(
    contactId: str,  # noqa: N803
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Take the contact out of every campaign."""
    contact = load_contact(db, caller, contactId)
    leave_campaigns(db, contact)
    db.commit()
    return {"succeded": True}


@router.post(
    "/{contactId}/campaigns/{campaignId}",
    operation_id="add-contact-to-campaign",
    status_code=201,
    tags=["Campaigns"],
)
def add_to_campaign(
    contactId: str,  # noqa: N803
    campaignId: str,  # noqa: N803
    caller: Writer,
    db: WriteDb,
    body: AddToCampaignDto | None = None,
) -> JSONResponse:
    """Add the contact to the campaign (the body, if any, must be an empty object)."""
    contact = load_contact(db, caller, contactId)
    campaign = load_campaign(db, contact.location_id, campaignId)
    join_campaign(db, contact, campaign)
    db.commit()
    return JSONResponse({"succeded": True}, status_code=201)


@router.delete(
    "/{contactId}/campaigns/{campaignId}",
    operation_id="remove-contact-from-campaign",
    tags=["Campaigns"],
)
def remove_from_campaign(
    contactId: str,  # noqa: N803
    campaignId: str,  # noqa: N803
    caller: Writer,
    db: WriteDb,
) -> dict[str, Any]:
    """Take the contact out of the campaign."""
    contact = load_contact(db, caller, contactId)
    campaign = load_campaign(db, contact.location_id, campaignId)
    leave_campaigns(db, contact, campaign.id)
    db.commit()
    return {"succeded": True}


@router.post(
    "/{contactId}/workflow/{workflowId}", operation_id="add-contact-to-workflow", tags=["Workflow"]
)
def add_to_workflow(
    contactId: str,  # noqa: N803
    workflowId: str,  # noqa: N803
    caller: Writer,
    db: WriteDb,
    body: WorkflowDto | None = None,
) -> dict[str, Any]:
    """Enrol the contact in the workflow, from `eventStartTime` if given."""
    contact = load_contact(db, caller, contactId)
    workflow = load_workflow(db, contact.location_id, workflowId)
    enrol(db, contact, workflow, body.eventStartTime if body is not None else None)
    db.commit()
    return {"succeded": True}


@router.delete(
    "/{contactId}/workflow/{workflowId}",
    operation_id="delete-contact-from-workflow",
    tags=["Workflow"],
)
def remove_from_workflow(
    contactId: str,  # noqa: N803
    workflowId: str,  # noqa: N803
    caller: Writer,
    db: WriteDb,
    body: WorkflowDto | None = None,
) -> dict[str, Any]:
    """Take the contact out of the workflow (the reference's body is accepted and unused)."""
    contact = load_contact(db, caller, contactId)
    workflow = load_workflow(db, contact.location_id, workflowId)
    unenrol(db, contact, workflow)
    db.commit()
    return {"succeded": True}
