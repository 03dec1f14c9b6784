"""Campaigns and workflows of a location, and a contact's memberships in them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError, not_found
from leadwire.crm.ids import is_valid_id
from leadwire.crm.models import Campaign, CampaignMember, Contact, Workflow, WorkflowMember, utcnow


def _check_id(name: str, value: str) -> None:
    if not is_valid_id(value):
        raise CrmError(400, f"{name} {value!r} is not a valid id (20 letters and digits)")


def load_campaign(session: Session, location_id: str, campaign_id: str) -> Campaign:
    """Return the location's campaign; 400 for a malformed id, 404 if not the location's."""
    _check_id("campaignId", campaign_id)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.location_id != location_id:
        raise not_found("Campaign", campaign_id)
    return campaign


def load_workflow(session: Session, location_id: str, workflow_id: str) -> Workflow:
    """Return the location's workflow; 400 for a malformed id, 404 if not the location's."""
    _check_id("workflowId", workflow_id)
    workflow = session.get(Workflow, workflow_id)
    if workflow is None or workflow.location_id != location_id:
        raise not_found("Workflow", workflow_id)
    return workflow


def join_campaign(session: Session, contact: Contact, campaign: Campaign) -> bool:
    """Add the contact to the campaign; return False if it was in it already."""
    if session.get(CampaignMember, (contact.id, campaign.id)) is not None:
        return False
    session.add(CampaignMember(contact_id=contact.id, campaign_id=campaign.id, date_added=utcnow()))
    return True


def leave_campaigns(session: Session, contact: Contact, campaign_id: str | None = None) -> int:
    """Remove the contact from one campaign (or all, if `campaign_id` is None); return how many."""
    statement = delete(CampaignMember).where(CampaignMember.contact_id == contact.id)
    if campaign_id is not None:
        statement = statement.where(CampaignMember.campaign_id == campaign_id)
    return int(getattr(session.execute(statement), "rowcount", 0) or 0)


def campaigns_of(session: Session, contact: Contact) -> list[str]:
    """Return the ids of the campaigns the contact is in."""
    rows = session.scalars(
        select(CampaignMember.campaign_id)
        .where(CampaignMember.contact_id == contact.id)
        .order_by(CampaignMember.campaign_id)
    )
    return list(rows)


def enrol(
    session: Session, contact: Contact, workflow: Workflow, start: datetime | None
) -> WorkflowMember:
    """Enrol the contact in the workflow, or move the start of an existing enrolment."""
    member = session.get(WorkflowMember, (contact.id, workflow.id))
    if member is None:
        member = WorkflowMember(contact_id=contact.id, workflow_id=workflow.id, date_added=utcnow())
        session.add(member)
    if start is not None:
        member.event_start_time = start
    return member


def unenrol(session: Session, contact: Contact, workflow: Workflow) -> bool:
    """Take the contact out of the workflow; return False if it was not in it."""
    member = session.get(WorkflowMember, (contact.id, workflow.id))
    if member is None:
        return False
    session.delete(member)
    return True
