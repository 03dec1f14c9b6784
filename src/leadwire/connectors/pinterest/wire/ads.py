"""The ad context of a lead: ad account, campaign, ad group, ad, and their analytics rows.

Only the fields a flow can use are typed; the rest of Pinterest's large objects is ignored.
Enums with a long, growing list upstream (country, currency, creative type, review reasons) stay
text, so that a value added by Pinterest does not make a whole listing unreadable.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

_DIGITS = r"^[0-9]+$"  # ASCII only: `\d` would admit digits of other scripts


class _Wire(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class EntityStatus(StrEnum):
    """`EntityStatus` of campaigns, ad groups and ads."""

    ACTIVE = "ACTIVE"
    PAUSED = "PAUSED"
    ARCHIVED = "ARCHIVED"
    DRAFT = "DRAFT"
    DELETED_DRAFT = "DELETED_DRAFT"


class ObjectiveType(StrEnum):
    """`ObjectiveType` of a campaign."""

    AWARENESS = "AWARENESS"
    CONSIDERATION = "CONSIDERATION"
    WEB_CONVERSION = "WEB_CONVERSION"
    CATALOG_SALES = "CATALOG_SALES"
    VIDEO_COMPLETION = "VIDEO_COMPLETION"


class Granularity(StrEnum):
    """`Granularity` of analytics."""

    TOTAL = "TOTAL"
    DAY = "DAY"
    HOUR = "HOUR"
    WEEK = "WEEK"
    MONTH = "MONTH"


class AdAccountOwner(_Wire):
    """`AdAccountOwner`."""

    id: str | None = None
    username: str | None = None


class AdAccount(_Wire):
    """`AdAccount`; times are Unix seconds."""

    id: str = Field(pattern=_DIGITS, max_length=18)
    name: str | None = None
    owner: AdAccountOwner | None = None
    country: str | None = None
    currency: str | None = None
    permissions: list[str] = Field(default_factory=list)
    created_time: int | None = None
    updated_time: int | None = None


class Campaign(_Wire):
    """`CampaignResponse`."""

    id: str = Field(pattern=_DIGITS)
    ad_account_id: str | None = Field(default=None, pattern=_DIGITS)
    name: str | None = None
    status: EntityStatus | None = None
    objective_type: ObjectiveType | None = None
    summary_status: str | None = None
    start_time: int | None = None
    end_time: int | None = None
    daily_spend_cap: int | None = None
    lifetime_spend_cap: int | None = None
    created_time: int | None = None
    updated_time: int | None = None


class AdGroup(_Wire):
    """`AdGroupResponse`; `campaign_id` may carry a `C` prefix per the spec's pattern."""

    id: str = Field(pattern=_DIGITS)
    ad_account_id: str | None = Field(default=None, pattern=_DIGITS)
    campaign_id: str | None = Field(default=None, pattern=r"^C?[0-9]+$")
    name: str | None = None
    status: EntityStatus | None = None
    summary_status: str | None = None
    budget_in_micro_currency: int | None = None
    bid_in_micro_currency: int | None = None
    start_time: int | None = None
    end_time: int | None = None
    created_time: int | None = None
    updated_time: int | None = None


class Ad(_Wire):
    """`AdResponse`; a lead ad names its form in `lead_form_id` (pattern `^(AG)?\\d+$`)."""

    id: str = Field(pattern=_DIGITS)
    ad_account_id: str | None = Field(default=None, pattern=_DIGITS)
    campaign_id: str | None = Field(default=None, pattern=_DIGITS)
    ad_group_id: str | None = Field(default=None, pattern=r"^(AG)?[0-9]+$")
    pin_id: str | None = Field(default=None, pattern=_DIGITS)
    lead_form_id: str | None = Field(default=None, pattern=r"^(AG)?[0-9]+$")
    name: str | None = None
    status: EntityStatus | None = None
    creative_type: str | None = None
    destination_url: str | None = None
    review_status: str | None = None
    summary_status: str | None = None
    created_time: int | None = None
    updated_time: int | None = None


class AnalyticsRow(BaseModel):
    """One row of `AdsAnalyticsResponse`/`CampaignsAnalyticsResponse`: ids, date, metric columns."""

    model_config = ConfigDict(extra="allow", frozen=True, populate_by_name=True)

    ad_id: str | None = Field(default=None, alias="AD_ID", pattern=_DIGITS)
    campaign_id: str | None = Field(default=None, alias="CAMPAIGN_ID", pattern=_DIGITS)
    day: date | None = Field(default=None, alias="DATE")

    def metrics(self) -> dict[str, float]:
        """Return the numeric metric columns by their Pinterest name (e.g. `SPEND_IN_DOLLAR`)."""
        extra = self.model_extra or {}
        return {
            name: float(value)
            for name, value in extra.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
