"""Campaign and ad analytics (category `ads_analytics`): deterministic rows in the spec's shape.

These routes come before `/campaigns/{campaign_id}` and `/ads/{ad_id}` so that `analytics` is
never taken for an id.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy import select

from leadwire.sandbox import analytics
from leadwire.sandbox.analytics import Entity, Granularity
from leadwire.sandbox.deps import ReadAccount, ReadDb
from leadwire.sandbox.gate import operation
from leadwire.sandbox.models import Ad, AdAccount, Campaign
from leadwire.sandbox.paging import InvalidParameterError
from leadwire.sandbox.routes import API_PREFIX, IdsQuery, api_router, id_list
from leadwire.sandbox.spec import analytics_columns

router = api_router(prefix=API_PREFIX, tags=["campaigns", "ads"])
WINDOW_DAYS = (0, 1, 7, 14, 30, 60)
# An int checked in the handler: a Literal of ints would refuse the string "7" a query sends.
Window = Annotated[int, Query()]


def _analytics(kind: str) -> dict[str, Any]:
    return operation(
        "ads:read",
        "ads_analytics",
        client_ok=True,
        bad_code=400,
        bad_message=f"Invalid ad account {kind} analytics parameters.",
    )


def _columns(values: list[str]) -> list[str]:
    columns = [part.strip() for value in values for part in value.split(",") if part.strip()]
    known = analytics_columns()
    unknown = [c for c in columns if c not in known]
    if unknown or not columns:
        raise InvalidParameterError(f"columns holds unknown column(s): {', '.join(unknown)}.")
    return list(dict.fromkeys(columns))


def _check_windows(**windows: int) -> None:
    for name, days in windows.items():
        if days not in WINDOW_DAYS:
            allowed = ", ".join(str(d) for d in WINDOW_DAYS)
            raise InvalidParameterError(f"{name} must be one of {allowed}, not {days}.")


def _account_names(account: AdAccount) -> dict[str, Any]:
    return {"AD_ACCOUNT_ID": account.id, "ADVERTISER_ID": account.id}


def _campaign_entity(account: AdAccount, c: Campaign) -> Entity:
    return Entity(
        "CAMPAIGN_ID",
        c.id,
        {
            **_account_names(account),
            "CAMPAIGN_ID": c.id,
            "CAMPAIGN_NAME": c.name,
            "CAMPAIGN_ENTITY_STATUS": c.status,
            "CAMPAIGN_OBJECTIVE_TYPE": c.objective_type,
        },
    )


def _ad_entity(account: AdAccount, ad: Ad) -> Entity:
    names = {
        **_account_names(account),
        "AD_ID": ad.id,
        "AD_NAME": ad.name,
        "PIN_PROMOTION_ID": ad.id,
        "AD_GROUP_ID": ad.ad_group_id,
        "CAMPAIGN_ID": ad.campaign_id,
    }
    if ad.pin_id:
        names["PIN_ID"] = ad.pin_id
    return Entity("AD_ID", ad.id, names)


@router.get(
    "/ad_accounts/{ad_account_id}/campaigns/analytics",
    operation_id="campaigns/analytics",
    openapi_extra=_analytics("campaign"),
)
def campaign_analytics(
    account: ReadAccount,
    db: ReadDb,
    start_date: Annotated[date, Query()],
    end_date: Annotated[date, Query()],
    campaign_ids: Annotated[list[str], Query()],
    columns: Annotated[list[str], Query()],
    granularity: Annotated[Granularity, Query()],
    click_window_days: Window = 30,
    engagement_window_days: Window = 30,
    view_window_days: Window = 1,
    conversion_report_time: Annotated[
        Literal["TIME_OF_AD_ACTION", "TIME_OF_CONVERSION"], Query()
    ] = "TIME_OF_AD_ACTION",
    aggregate_report_rows: Annotated[bool, Query()] = False,
    reporting_timezone: Annotated[
        Literal["PINTEREST_TIME_ZONE", "AD_ACCOUNT_TIME_ZONE"] | None, Query()
    ] = None,
) -> list[dict[str, Any]]:
    """Return metrics per campaign (and per period unless granularity is TOTAL)."""
    _check_windows(
        click_window_days=click_window_days,
        engagement_window_days=engagement_window_days,
        view_window_days=view_window_days,
    )
    ids = id_list("campaign_ids", campaign_ids, max_digits=18) or []
    wanted = _columns(columns)
    analytics.check_range(start_date, end_date, granularity)
    campaigns = db.scalars(
        select(Campaign)
        .where(Campaign.ad_account_id == account.id, Campaign.id.in_(ids))
        .order_by(Campaign.id)
    ).all()
    entities = [_campaign_entity(account, c) for c in campaigns]
    if aggregate_report_rows and entities:
        merged = Entity("CAMPAIGN_ID", ",".join(e.id for e in entities), _account_names(account))
        found = analytics.rows([merged], wanted, start_date, end_date, granularity)
        return [{k: v for k, v in row.items() if k != "CAMPAIGN_ID"} for row in found]
    return analytics.rows(entities, wanted, start_date, end_date, granularity)


@router.get(
    "/ad_accounts/{ad_account_id}/ads/analytics",
    operation_id="ads/analytics",
    openapi_extra=_analytics("ads"),
)
def ad_analytics(
    account: ReadAccount,
    db: ReadDb,
    start_date: Annotated[date, Query()],
    end_date: Annotated[date, Query()],
    columns: Annotated[list[str], Query()],
    granularity: Annotated[Granularity, Query()],
    ad_ids: IdsQuery = None,
    pin_ids: IdsQuery = None,
    campaign_ids: IdsQuery = None,
    click_window_days: Window = 30,
    engagement_window_days: Window = 30,
    view_window_days: Window = 1,
    conversion_report_time: Annotated[
        Literal["TIME_OF_AD_ACTION", "TIME_OF_CONVERSION"], Query()
    ] = "TIME_OF_AD_ACTION",
    reporting_timezone: Annotated[
        Literal["PINTEREST_TIME_ZONE", "AD_ACCOUNT_TIME_ZONE"] | None, Query()
    ] = None,
) -> list[dict[str, Any]]:
    """Return metrics per ad: for `ad_ids`, or for the ads of `campaign_ids` showing `pin_ids`."""
    _check_windows(
        click_window_days=click_window_days,
        engagement_window_days=engagement_window_days,
        view_window_days=view_window_days,
    )
    ads_wanted = id_list("ad_ids", ad_ids)
    pins = id_list("pin_ids", pin_ids, limit=100)
    campaigns = id_list("campaign_ids", campaign_ids, max_digits=18)
    wanted = _columns(columns)
    analytics.check_range(start_date, end_date, granularity)
    stmt = select(Ad).where(Ad.ad_account_id == account.id).order_by(Ad.id)
    if ads_wanted is not None:
        stmt = stmt.where(Ad.id.in_(ads_wanted))
    elif campaigns is not None and pins is not None:
        stmt = stmt.where(Ad.campaign_id.in_(campaigns), Ad.pin_id.in_(pins))
    else:
        raise InvalidParameterError("give ad_ids, or both campaign_ids and pin_ids.")
    entities = [_ad_entity(account, ad) for ad in db.scalars(stmt)]
    return analytics.rows(entities, wanted, start_date, end_date, granularity)
