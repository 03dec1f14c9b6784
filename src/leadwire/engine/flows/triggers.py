"""What starts a flow: a new Pinterest lead, a CRM event, a schedule, or a person (manual)."""

from __future__ import annotations

from typing import Annotated, Literal, Self

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.flows.catalog import CrmEvent
from leadwire.engine.flows.timing import check_cron, duration_s

PinterestId = Annotated[str, StringConstraints(pattern=r"^[0-9]{1,32}$")]
Duration = Annotated[
    str,
    Field(
        description="A duration: days, hours, minutes, seconds, e.g. `30s`, `15m`, `2h`, `1d12h`.",
        pattern=r"^(\d+d)?(\d+h)?(\d+m)?(\d+s)?$",
        examples=["15m", "2h", "1d12h"],
    ),
]


class Strict(BaseModel):
    """Base of the document's models: unknown keys are errors, values are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PinterestLeadTrigger(Strict):
    """A new lead of Pinterest Lead Ads: of one ad account, or of some of its lead forms."""

    type: Literal["pinterest_lead"]
    ad_account_id: PinterestId | None = Field(
        default=None, description="The ad account; none: every ad account of the connection."
    )
    lead_form_ids: list[PinterestId] = Field(
        default_factory=list, description="Only these forms; empty: every form.", max_length=200
    )
    include_test_leads: bool = Field(
        default=True, description="Also run for test leads (Pinterest's test-lead button)."
    )

    def matches(self, lead: Lead) -> bool:
        """Return whether `lead` starts this flow."""
        if self.ad_account_id is not None and lead.ad_account_id != self.ad_account_id:
            return False
        if self.lead_form_ids and lead.lead_form_id not in self.lead_form_ids:
            return False
        return self.include_test_leads or not lead.is_test


class CrmEventTrigger(Strict):
    """An event of the CRM's event webhooks, e.g. `ContactCreate`, `TaskComplete`."""

    type: Literal["crm_event"]
    events: list[CrmEvent] = Field(min_length=1, max_length=len(CrmEvent))


class ScheduleTrigger(Strict):
    """A schedule: a five-field cron line (in the flow's time zone) or a fixed interval."""

    type: Literal["schedule"]
    cron: str | None = Field(default=None, examples=["0 9 * * MON-FRI"])
    every: Duration | None = None

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return None if value is None else check_cron(value)

    @field_validator("every")
    @classmethod
    def _every(cls, value: str | None) -> str | None:
        if value is not None:
            duration_s(value)
        return value

    @model_validator(mode="after")
    def _one(self) -> Self:
        if (self.cron is None) == (self.every is None):
            raise ValueError("give exactly one of `cron` and `every`")
        return self


class ManualTrigger(Strict):
    """Started by a person (the console's or the CLI's run button) on a lead they choose."""

    type: Literal["manual"]


Trigger = Annotated[
    PinterestLeadTrigger | CrmEventTrigger | ScheduleTrigger | ManualTrigger,
    Field(discriminator="type"),
]
