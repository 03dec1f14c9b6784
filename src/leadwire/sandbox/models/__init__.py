"""The sandbox store's tables; importing this module registers all of them."""

from leadwire.sandbox.models.accounts import Ad, AdAccount, AdGroup, App, Campaign, UserAccount
from leadwire.sandbox.models.base import Base, utcnow
from leadwire.sandbox.models.leads import (
    Delivery,
    LeadForm,
    LeadsExport,
    SandboxLead,
    Subscription,
)
from leadwire.sandbox.models.oauth import AuthCode, Token

__all__ = [
    "Ad",
    "AdAccount",
    "AdGroup",
    "App",
    "AuthCode",
    "Base",
    "Campaign",
    "Delivery",
    "LeadForm",
    "LeadsExport",
    "SandboxLead",
    "Subscription",
    "Token",
    "UserAccount",
    "utcnow",
]
