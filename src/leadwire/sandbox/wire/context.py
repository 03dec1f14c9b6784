"""The ad context of a lead on the wire: ad accounts, campaigns, ad groups and ads.

Fields the sandbox does not model get fixed, plausible values that are valid in both spec
5.14.0 (the official SDK's models) and 5.23.0; a nullable field is `null` only where Pinterest
would plausibly leave it empty (no end time, no tracking URLs). A row's `extra` JSON overrides
any of them, so a test or the demo can shape a response without a schema change.
"""

from __future__ import annotations

from typing import Any

from leadwire.sandbox.models import Ad, AdAccount, AdGroup, Campaign, UserAccount
from leadwire.sandbox.wire.inputs import seconds

ENTITY_STATUSES = ("ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT")
DEFAULT_STATUSES = ("ACTIVE", "PAUSED")
_SUMMARY = {
    "ACTIVE": "RUNNING",
    "PAUSED": "PAUSED",
    "ARCHIVED": "ARCHIVED",
    "DRAFT": "DRAFT",
    "DELETED_DRAFT": "DELETED_DRAFT",
}
_AD_SUMMARY = {**_SUMMARY, "ACTIVE": "APPROVED"}


def account_wire(account: AdAccount, owner: UserAccount) -> dict[str, Any]:
    """Return an ad account as `AdAccount`; the token's user is its owner."""
    created = seconds(account.created_time)
    return {
        "id": account.id,
        "name": account.name,
        "owner": {"id": owner.id, "username": owner.username},
        "country": account.country,
        "currency": account.currency,
        "permissions": ["OWNER"],
        "created_time": created,
        "updated_time": created,
        **account.extra,
    }


def campaign_wire(campaign: Campaign) -> dict[str, Any]:
    """Return a campaign as `CampaignResponse`."""
    created = seconds(campaign.created_time)
    return {
        "id": campaign.id,
        "ad_account_id": campaign.ad_account_id,
        "name": campaign.name,
        "status": campaign.status,
        "lifetime_spend_cap": None,
        "daily_spend_cap": 50_000_000,
        "order_line_id": None,
        "tracking_urls": None,
        "start_time": created,
        "end_time": None,
        "is_flexible_daily_budgets": False,
        "is_automated_campaign": False,
        "objective_type": campaign.objective_type,
        "created_time": created,
        "updated_time": seconds(campaign.updated_time),
        "type": "campaign",
        "is_campaign_budget_optimization": False,
        "is_performance_plus": False,
        "summary_status": _SUMMARY.get(campaign.status, "PAUSED"),
        **campaign.extra,
    }


def ad_group_wire(group: AdGroup) -> dict[str, Any]:
    """Return an ad group as `AdGroupResponse`."""
    created = seconds(group.created_time)
    return {
        "id": group.id,
        "ad_account_id": group.ad_account_id,
        "campaign_id": group.campaign_id,
        "name": group.name,
        "status": group.status,
        "budget_in_micro_currency": 10_000_000,
        "bid_in_micro_currency": None,
        "budget_type": "DAILY",
        "start_time": created,
        "end_time": None,
        "targeting_spec": {
            "APPTYPE": ["web", "iphone", "android_mobile"],
            "GENDER": ["female", "male", "unknown"],
            "LOCALE": ["en-US"],
            "LOCATION": ["US"],
        },
        "tracking_urls": None,
        "auto_targeting_enabled": True,
        "placement_group": "ALL",
        "pacing_delivery_type": "STANDARD",
        "billable_event": "CLICKTHROUGH",
        "bid_strategy_type": "AUTOMATIC_BID",
        "targeting_template_ids": None,
        "optimization_goal_metadata": None,
        "conversion_learning_mode_type": None,
        "created_time": created,
        "updated_time": seconds(group.updated_time),
        "type": "adgroup",
        "summary_status": _SUMMARY.get(group.status, "PAUSED"),
        **group.extra,
    }


def ad_wire(ad: Ad) -> dict[str, Any]:
    """Return an ad as `AdResponse`; a lead ad names its `lead_form_id`."""
    wire: dict[str, Any] = {
        "id": ad.id,
        "ad_account_id": ad.ad_account_id,
        "campaign_id": ad.campaign_id,
        "ad_group_id": ad.ad_group_id,
        "name": ad.name,
        "status": ad.status,
        "creative_type": ad.creative_type,
        "lead_form_id": ad.lead_form_id,
        "destination_url": None,
        "android_deep_link": None,
        "ios_deep_link": None,
        "carousel_android_deep_links": None,
        "carousel_destination_urls": None,
        "carousel_ios_deep_links": None,
        "click_tracking_url": None,
        "view_tracking_url": None,
        "tracking_urls": None,
        "collection_items_destination_url_template": None,
        "customizable_cta_type": "SIGN_UP" if ad.lead_form_id else "LEARN_MORE",
        "grid_click_type": "CLOSEUP",
        "is_pin_deleted": False,
        "is_removable": False,
        "quiz_pin_data": None,
        "rejected_reasons": [],
        "rejection_labels": [],
        "review_status": "APPROVED",
        "summary_status": _AD_SUMMARY.get(ad.status, "PAUSED"),
        "type": "pinpromotion",
        "created_time": seconds(ad.created_time),
        "updated_time": seconds(ad.updated_time),
        **ad.extra,
    }
    if ad.pin_id is not None:
        wire["pin_id"] = ad.pin_id
    return wire
