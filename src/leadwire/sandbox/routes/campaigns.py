"""Campaigns, ad groups and ads of an ad account: list with filters, and get one."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Path, Query
from sqlalchemy import Select, select
from sqlalchemy.orm import InstrumentedAttribute

from leadwire.sandbox.deps import ReadAccount, ReadDb
from leadwire.sandbox.errors import PinterestError
from leadwire.sandbox.gate import operation
from leadwire.sandbox.ids import DIGITS
from leadwire.sandbox.models import Ad, AdGroup, Campaign
from leadwire.sandbox.paging import InvalidParameterError, OrderedPage, fetch_page, page_body
from leadwire.sandbox.routes import API_PREFIX, IdsQuery, api_router, id_list
from leadwire.sandbox.wire.context import DEFAULT_STATUSES, ad_group_wire, ad_wire, campaign_wire

router = api_router(prefix=API_PREFIX, tags=["campaigns", "ad_groups", "ads"])
Status = Literal["ACTIVE", "PAUSED", "ARCHIVED", "DRAFT", "DELETED_DRAFT"]
StatusesQuery = Annotated[list[Status] | None, Query()]
EntityId = Annotated[str, Path(pattern=DIGITS, max_length=18)]


def _read(kind: str) -> dict[str, Any]:
    return operation(
        "ads:read",
        "ads_read",
        client_ok=True,
        bad_code=400,
        bad_message=f"Invalid ad account {kind} parameters.",
    )


def _filtered(
    stmt: Select[Any],
    filters: list[tuple[str, InstrumentedAttribute[str], list[str] | None]],
    status: InstrumentedAttribute[str],
    statuses: list[Status] | None,
) -> Select[Any]:
    given = [
        (name, column, id_list(name, ids, max_digits=18 if name == "campaign_ids" else None))
        for name, column, ids in filters
        if ids
    ]
    if len(given) > 1:
        names = " and ".join(name for name, _, _ in given)
        raise InvalidParameterError(f"give only one of {names}.")
    for _, column, ids in given:
        stmt = stmt.where(column.in_(ids or []))
    return stmt.where(status.in_(list(statuses or DEFAULT_STATUSES)))


def _not_found(kind: str) -> PinterestError:
    return PinterestError(404, 404, f"{kind} not found.")


@router.get(
    "/ad_accounts/{ad_account_id}/campaigns",
    operation_id="campaigns/list",
    openapi_extra=_read("campaign"),
)
def list_campaigns(
    account: ReadAccount,
    db: ReadDb,
    page: OrderedPage,
    campaign_ids: IdsQuery = None,
    entity_statuses: StatusesQuery = None,
) -> dict[str, Any]:
    """List the account's campaigns, by ids and statuses (default ACTIVE and PAUSED)."""
    stmt = _filtered(
        select(Campaign).where(Campaign.ad_account_id == account.id),
        [("campaign_ids", Campaign.id, campaign_ids)],
        Campaign.status,
        entity_statuses,
    )
    rows, bookmark = fetch_page(db, stmt, Campaign.id, page)
    return page_body([campaign_wire(c) for c in rows], bookmark)


@router.get(
    "/ad_accounts/{ad_account_id}/campaigns/{campaign_id}",
    operation_id="campaigns/get",
    openapi_extra=_read("campaign"),
)
def get_campaign(account: ReadAccount, db: ReadDb, campaign_id: EntityId) -> dict[str, Any]:
    """Return one campaign of the account."""
    campaign = db.get(Campaign, campaign_id)
    if campaign is None or campaign.ad_account_id != account.id:
        raise _not_found("Campaign")
    return campaign_wire(campaign)


@router.get(
    "/ad_accounts/{ad_account_id}/ad_groups",
    operation_id="ad_groups/list",
    openapi_extra=_read("group"),
)
def list_ad_groups(
    account: ReadAccount,
    db: ReadDb,
    page: OrderedPage,
    campaign_ids: IdsQuery = None,
    ad_group_ids: IdsQuery = None,
    entity_statuses: StatusesQuery = None,
    translate_interests_to_names: Annotated[bool, Query()] = False,
) -> dict[str, Any]:
    """List the account's ad groups, by campaign ids or ad group ids (not both)."""
    stmt = _filtered(
        select(AdGroup).where(AdGroup.ad_account_id == account.id),
        [
            ("campaign_ids", AdGroup.campaign_id, campaign_ids),
            ("ad_group_ids", AdGroup.id, ad_group_ids),
        ],
        AdGroup.status,
        entity_statuses,
    )
    rows, bookmark = fetch_page(db, stmt, AdGroup.id, page)
    return page_body([ad_group_wire(g) for g in rows], bookmark)


@router.get(
    "/ad_accounts/{ad_account_id}/ad_groups/{ad_group_id}",
    operation_id="ad_groups/get",
    openapi_extra=_read("group"),
)
def get_ad_group(account: ReadAccount, db: ReadDb, ad_group_id: EntityId) -> dict[str, Any]:
    """Return one ad group of the account."""
    group = db.get(AdGroup, ad_group_id)
    if group is None or group.ad_account_id != account.id:
        raise _not_found("Ad group")
    return ad_group_wire(group)


@router.get("/ad_accounts/{ad_account_id}/ads", operation_id="ads/list", openapi_extra=_read("ads"))
def list_ads(
    account: ReadAccount,
    db: ReadDb,
    page: OrderedPage,
    campaign_ids: IdsQuery = None,
    ad_group_ids: IdsQuery = None,
    ad_ids: IdsQuery = None,
    entity_statuses: StatusesQuery = None,
) -> dict[str, Any]:
    """List the account's ads, by campaign, ad group or ad ids (only one kind)."""
    stmt = _filtered(
        select(Ad).where(Ad.ad_account_id == account.id),
        [
            ("campaign_ids", Ad.campaign_id, campaign_ids),
            ("ad_group_ids", Ad.ad_group_id, ad_group_ids),
            ("ad_ids", Ad.id, ad_ids),
        ],
        Ad.status,
        entity_statuses,
    )
    rows, bookmark = fetch_page(db, stmt, Ad.id, page)
    return page_body([ad_wire(a) for a in rows], bookmark)


@router.get(
    "/ad_accounts/{ad_account_id}/ads/{ad_id}", operation_id="ads/get", openapi_extra=_read("ads")
)
def get_ad(account: ReadAccount, db: ReadDb, ad_id: EntityId) -> dict[str, Any]:
    """Return one ad of the account."""
    ad = db.get(Ad, ad_id)
    if ad is None or ad.ad_account_id != account.id:
        raise _not_found("Ad")
    return ad_wire(ad)
