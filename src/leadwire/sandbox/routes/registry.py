"""Every router of the sandbox, in one list, in the order they are matched.

`analytics` comes before `campaigns` so `/campaigns/analytics` and `/ads/analytics` are never
taken for `/campaigns/{campaign_id}` and `/ads/{ad_id}`.
"""

from __future__ import annotations

from fastapi import APIRouter

from leadwire.sandbox.routes import (
    accounts,
    analytics,
    campaigns,
    delivery_log,
    downloads,
    lead_forms,
    leads_export,
    oauth,
    resources,
    submit,
    subscriptions,
)

ROUTERS: list[APIRouter] = [
    oauth.page_router,
    oauth.router,
    accounts.router,
    analytics.router,
    campaigns.router,
    lead_forms.router,
    subscriptions.router,
    leads_export.router,
    resources.router,
    # Sandbox extensions, outside /v5: submit a lead, the delivery log, export downloads.
    submit.router,
    delivery_log.router,
    downloads.router,
]
