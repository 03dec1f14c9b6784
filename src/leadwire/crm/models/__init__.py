"""The CRM store's tables; importing this module registers all of them on `Base.metadata`."""

from leadwire.crm.models.access import ApiKey, IdempotencyRecord, OAuthClient, OAuthCode, OAuthToken
from leadwire.crm.models.base import Base, utcnow
from leadwire.crm.models.contacts import (
    Appointment,
    Campaign,
    CampaignMember,
    Contact,
    ContactTag,
    Note,
    Task,
    Workflow,
    WorkflowMember,
)
from leadwire.crm.models.events import WebhookDelivery, WebhookSubscription
from leadwire.crm.models.tenancy import Business, CustomField, Location, User

__all__ = [
    "ApiKey",
    "Appointment",
    "Base",
    "Business",
    "Campaign",
    "CampaignMember",
    "Contact",
    "ContactTag",
    "CustomField",
    "IdempotencyRecord",
    "Location",
    "Note",
    "OAuthClient",
    "OAuthCode",
    "OAuthToken",
    "Task",
    "User",
    "WebhookDelivery",
    "WebhookSubscription",
    "Workflow",
    "WorkflowMember",
    "utcnow",
]
