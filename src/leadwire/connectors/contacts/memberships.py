"""A contact's followers (users), campaigns and workflows.

Joining twice and leaving what a contact is not in succeed on the embedded CRM (sets), so these
are safe to retry there; HighLevel does not document it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from leadwire.connectors.contacts.session import ContactsSession, path_id
from leadwire.connectors.contacts.wire.contacts import Succeeded
from leadwire.connectors.contacts.wire.memberships import (
    CampaignBody,
    FollowersBody,
    FollowersChange,
    WorkflowBody,
)

REMOVE_ALL = "removeAll"


def _contact(contact_id: str, op: str) -> str:
    return f"contacts/{path_id('contactId', contact_id, op)}"


class FollowersApi:
    """Users following a contact."""

    def __init__(self, session: ContactsSession) -> None:
        self._session = session

    def add(self, contact_id: str, user_ids: Sequence[str]) -> FollowersChange:
        """Add users as followers; return the followers and which were added."""
        op = "add-followers-contact"
        body = FollowersBody(followers=list(user_ids)).wire()
        path = f"{_contact(contact_id, op)}/followers"
        return self._session.fetch("POST", path, FollowersChange, op, body=body)

    def remove(self, contact_id: str, user_ids: Sequence[str]) -> FollowersChange:
        """Remove followers; return the followers and which were removed."""
        op = "remove-followers-contact"
        body = FollowersBody(followers=list(user_ids)).wire()
        path = f"{_contact(contact_id, op)}/followers"
        return self._session.fetch("DELETE", path, FollowersChange, op, body=body)


class CampaignsApi:
    """A contact's campaigns."""

    def __init__(self, session: ContactsSession) -> None:
        self._session = session

    def _path(self, contact_id: str, campaign_id: str, op: str) -> str:
        if campaign_id == REMOVE_ALL:
            raise ValueError(f"{REMOVE_ALL!r} is a path of its own; use remove_all")
        return f"{_contact(contact_id, op)}/campaigns/{path_id('campaignId', campaign_id, op)}"

    def add(self, contact_id: str, campaign_id: str) -> bool:
        """Add the contact to the campaign."""
        op = "add-contact-to-campaign"
        path = self._path(contact_id, campaign_id, op)
        return self._session.fetch("POST", path, Succeeded, op, body=CampaignBody().wire()).succeded

    def remove(self, contact_id: str, campaign_id: str) -> bool:
        """Take the contact out of the campaign."""
        op = "remove-contact-from-campaign"
        path = self._path(contact_id, campaign_id, op)
        return self._session.fetch("DELETE", path, Succeeded, op).succeded

    def remove_all(self, contact_id: str) -> bool:
        """Take the contact out of every campaign."""
        op = "remove-contact-from-every-campaign"
        path = f"{_contact(contact_id, op)}/campaigns/{REMOVE_ALL}"
        return self._session.fetch("DELETE", path, Succeeded, op).succeded


class WorkflowsApi:
    """A contact's workflow enrolments."""

    def __init__(self, session: ContactsSession) -> None:
        self._session = session

    def _path(self, contact_id: str, workflow_id: str, op: str) -> str:
        return f"{_contact(contact_id, op)}/workflow/{path_id('workflowId', workflow_id, op)}"

    def add(self, contact_id: str, workflow_id: str, *, start_at: datetime | None = None) -> bool:
        """Enrol the contact in the workflow, from `start_at` (aware) if given."""
        op = "add-contact-to-workflow"
        body = WorkflowBody(event_start_time=start_at) if start_at else WorkflowBody()
        path = self._path(contact_id, workflow_id, op)
        return self._session.fetch("POST", path, Succeeded, op, body=body.wire()).succeded

    def remove(self, contact_id: str, workflow_id: str) -> bool:
        """Take the contact out of the workflow (the reference's body is sent empty)."""
        op = "delete-contact-from-workflow"
        path = self._path(contact_id, workflow_id, op)
        return self._session.fetch("DELETE", path, Succeeded, op, body={}).succeded
