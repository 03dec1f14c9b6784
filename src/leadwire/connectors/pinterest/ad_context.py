"""The ad context of a lead: ad accounts, campaigns, ad groups, ads, and their analytics.

Each list has a page method (`fetch_*_page`, one request, for callers that keep the bookmark)
and a lazy iterator over every item (`list_*`). Operation names are the spec's operationIds.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date

from leadwire.connectors.pinterest.pagination import DEFAULT_PAGE_SIZE, check_page_size, iter_items
from leadwire.connectors.pinterest.session import PinterestSession, Query, path_id
from leadwire.connectors.pinterest.wire.ads import (
    Ad,
    AdAccount,
    AdGroup,
    AnalyticsRow,
    Campaign,
    EntityStatus,
    Granularity,
)
from leadwire.connectors.pinterest.wire.lead_ads import ListOrder
from leadwire.connectors.pinterest.wire.pages import Page


def _statuses(values: Sequence[EntityStatus] | None) -> list[str] | None:
    return None if values is None else [v.value for v in values]


def _ids(values: Sequence[str] | None, name: str, operation: str) -> list[str] | None:
    return None if values is None else [path_id(name, v, operation) for v in values]


class AdContextApi:
    """Read operations of the ads tags (`ad_accounts`, `campaigns`, `ad_groups`, `ads`)."""

    def __init__(self, session: PinterestSession) -> None:
        self._session = session

    def fetch_ad_accounts_page(
        self,
        bookmark: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        include_shared_accounts: bool | None = None,
    ) -> Page[AdAccount]:
        """Fetch one page of the ad accounts the token's user can see."""
        params: Query = {
            "bookmark": bookmark,
            "page_size": check_page_size(page_size),
            "include_shared_accounts": include_shared_accounts,
        }
        return self._session.fetch(
            "ad_accounts", Page[AdAccount], "ad_accounts/list", params=params
        )

    def list_ad_accounts(
        self, *, page_size: int = DEFAULT_PAGE_SIZE, include_shared_accounts: bool | None = None
    ) -> Iterator[AdAccount]:
        """Yield every ad account, page after page."""
        return iter_items(
            lambda bm: self.fetch_ad_accounts_page(
                bm, page_size=page_size, include_shared_accounts=include_shared_accounts
            ),
            "ad_accounts/list",
        )

    def fetch_ad_account(self, ad_account_id: str) -> AdAccount:
        """Fetch one ad account."""
        op = "ad_accounts/get"
        path = f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}"
        return self._session.fetch(path, AdAccount, op)

    def fetch_campaigns_page(
        self,
        ad_account_id: str,
        bookmark: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        campaign_ids: Sequence[str] | None = None,
        entity_statuses: Sequence[EntityStatus] | None = None,
        order: ListOrder | None = None,
    ) -> Page[Campaign]:
        """Fetch one page of an ad account's campaigns."""
        op = "campaigns/list"
        params: Query = {
            "bookmark": bookmark,
            "page_size": check_page_size(page_size),
            "campaign_ids": _ids(campaign_ids, "campaign_ids", op),
            "entity_statuses": _statuses(entity_statuses),
            "order": order.value if order else None,
        }
        path = f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}/campaigns"
        return self._session.fetch(path, Page[Campaign], op, params=params)

    def list_campaigns(
        self,
        ad_account_id: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        entity_statuses: Sequence[EntityStatus] | None = None,
    ) -> Iterator[Campaign]:
        """Yield every campaign of an ad account."""
        return iter_items(
            lambda bm: self.fetch_campaigns_page(
                ad_account_id, bm, page_size=page_size, entity_statuses=entity_statuses
            ),
            "campaigns/list",
        )

    def fetch_campaign(self, ad_account_id: str, campaign_id: str) -> Campaign:
        """Fetch one campaign."""
        op = "campaigns/get"
        path = (
            f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}"
            f"/campaigns/{path_id('campaign_id', campaign_id, op)}"
        )
        return self._session.fetch(path, Campaign, op)

    def fetch_ad_groups_page(
        self,
        ad_account_id: str,
        bookmark: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        campaign_ids: Sequence[str] | None = None,
        ad_group_ids: Sequence[str] | None = None,
        entity_statuses: Sequence[EntityStatus] | None = None,
        order: ListOrder | None = None,
    ) -> Page[AdGroup]:
        """Fetch one page of an ad account's ad groups."""
        op = "ad_groups/list"
        params: Query = {
            "bookmark": bookmark,
            "page_size": check_page_size(page_size),
            "campaign_ids": _ids(campaign_ids, "campaign_ids", op),
            "ad_group_ids": _ids(ad_group_ids, "ad_group_ids", op),
            "entity_statuses": _statuses(entity_statuses),
            "order": order.value if order else None,
        }
        path = f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}/ad_groups"
        return self._session.fetch(path, Page[AdGroup], op, params=params)

    def list_ad_groups(
        self,
        ad_account_id: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        campaign_ids: Sequence[str] | None = None,
    ) -> Iterator[AdGroup]:
        """Yield every ad group of an ad account (optionally of some campaigns)."""
        return iter_items(
            lambda bm: self.fetch_ad_groups_page(
                ad_account_id, bm, page_size=page_size, campaign_ids=campaign_ids
            ),
            "ad_groups/list",
        )

    def fetch_ad_group(self, ad_account_id: str, ad_group_id: str) -> AdGroup:
        """Fetch one ad group."""
        op = "ad_groups/get"
        path = (
            f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}"
            f"/ad_groups/{path_id('ad_group_id', ad_group_id, op)}"
        )
        return self._session.fetch(path, AdGroup, op)

    def fetch_ads_page(
        self,
        ad_account_id: str,
        bookmark: str | None = None,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        campaign_ids: Sequence[str] | None = None,
        ad_group_ids: Sequence[str] | None = None,
        ad_ids: Sequence[str] | None = None,
        entity_statuses: Sequence[EntityStatus] | None = None,
        order: ListOrder | None = None,
    ) -> Page[Ad]:
        """Fetch one page of an ad account's ads."""
        op = "ads/list"
        params: Query = {
            "bookmark": bookmark,
            "page_size": check_page_size(page_size),
            "campaign_ids": _ids(campaign_ids, "campaign_ids", op),
            "ad_group_ids": _ids(ad_group_ids, "ad_group_ids", op),
            "ad_ids": _ids(ad_ids, "ad_ids", op),
            "entity_statuses": _statuses(entity_statuses),
            "order": order.value if order else None,
        }
        path = f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}/ads"
        return self._session.fetch(path, Page[Ad], op, params=params)

    def list_ads(
        self,
        ad_account_id: str,
        *,
        page_size: int = DEFAULT_PAGE_SIZE,
        ad_group_ids: Sequence[str] | None = None,
    ) -> Iterator[Ad]:
        """Yield every ad of an ad account (optionally of some ad groups)."""
        return iter_items(
            lambda bm: self.fetch_ads_page(
                ad_account_id, bm, page_size=page_size, ad_group_ids=ad_group_ids
            ),
            "ads/list",
        )

    def fetch_ad(self, ad_account_id: str, ad_id: str) -> Ad:
        """Fetch one ad (its `lead_form_id`, `campaign_id`, `ad_group_id` give a lead context)."""
        op = "ads/get"
        path = (
            f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}"
            f"/ads/{path_id('ad_id', ad_id, op)}"
        )
        return self._session.fetch(path, Ad, op)

    def fetch_ads_analytics(
        self,
        ad_account_id: str,
        *,
        start_date: date,
        end_date: date,
        columns: Sequence[str],
        granularity: Granularity,
        ad_ids: Sequence[str] | None = None,
        campaign_ids: Sequence[str] | None = None,
    ) -> list[AnalyticsRow]:
        """Fetch ad metrics (e.g. `TOTAL_LEAD`) per ad and period."""
        op = "ads/analytics"
        return self._analytics(
            op,
            f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}/ads/analytics",
            start_date,
            end_date,
            columns,
            granularity,
            {
                "ad_ids": _ids(ad_ids, "ad_ids", op),
                "campaign_ids": _ids(campaign_ids, "campaign_ids", op),
            },
        )

    def fetch_campaigns_analytics(
        self,
        ad_account_id: str,
        *,
        campaign_ids: Sequence[str],
        start_date: date,
        end_date: date,
        columns: Sequence[str],
        granularity: Granularity,
    ) -> list[AnalyticsRow]:
        """Fetch campaign metrics per campaign and period."""
        op = "campaigns/analytics"
        return self._analytics(
            op,
            f"ad_accounts/{path_id('ad_account_id', ad_account_id, op)}/campaigns/analytics",
            start_date,
            end_date,
            columns,
            granularity,
            {"campaign_ids": _ids(campaign_ids, "campaign_ids", op)},
        )

    def _analytics(
        self,
        op: str,
        path: str,
        start_date: date,
        end_date: date,
        columns: Sequence[str],
        granularity: Granularity,
        filters: Query,
    ) -> list[AnalyticsRow]:
        params: Query = {
            "start_date": start_date.isoformat(),
            "end_date": end_date.isoformat(),
            # `columns` is the one array the spec sends unexploded (comma-separated).
            "columns": ",".join(columns),
            "granularity": granularity.value,
            **filters,
        }
        return self._session.fetch(path, list[AnalyticsRow], op, params=params)
