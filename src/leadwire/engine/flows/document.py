"""The flow document: metadata, one trigger, settings the steps share, then the steps.

Lifecycle stage: HighLevel's Contacts API has no lifecycle field, so a stage is a tag
(`stage:<name>`, the default) — visible in the CRM, searchable, and able to start HighLevel
workflows on "tag added" — and, when `lifecycle.custom_field` names one, also a custom field's
value. Stage names are lower-case because the CRM lower-cases tags.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, StringConstraints, field_validator, model_validator

from leadwire.engine.flows.steps import CustomFieldKey, StageName, Step
from leadwire.engine.flows.triggers import Strict, Trigger

Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")]
FORMAT: Literal[1] = 1
DRAFT_VERSION = 0


class Lifecycle(Strict):
    """How lifecycle stages are written to contacts."""

    stages: list[StageName] = Field(
        default_factory=list,
        max_length=30,
        description="The stages, in order; moving to one removes the others' tags. Empty: any.",
    )
    tag_prefix: str = Field(default="stage:", max_length=40, pattern=r"^[a-z0-9 _:.-]*$")
    as_tag: bool = Field(default=True, description="Write the stage as a tag.")
    custom_field: CustomFieldKey | None = Field(
        default=None, description="Also write the stage to this custom field (key or id:...)."
    )

    @model_validator(mode="after")
    def _somewhere(self) -> Self:
        if not self.as_tag and self.custom_field is None:
            raise ValueError("a stage must go somewhere: keep `as_tag` or set `custom_field`")
        if len(set(self.stages)) != len(self.stages):
            raise ValueError("a stage is listed twice")
        return self

    def tag(self, stage: str) -> str:
        """Return the tag of `stage`."""
        return f"{self.tag_prefix}{stage}"


class FlowDocument(Strict):
    """A leadwire flow, as written in YAML or JSON."""

    format: Literal[1] = Field(default=FORMAT, description="Version of this document format.")
    name: str = Field(min_length=1, max_length=200)
    description: str = Field(default="", max_length=5_000)
    timezone: str = Field(
        default="UTC", description="The CRM location's time zone (IANA): business days, dates."
    )
    holidays: list[date] = Field(
        default_factory=list, max_length=400, description="Days that are not business days."
    )
    lifecycle: Lifecycle = Field(default_factory=Lifecycle)
    constants: dict[Identifier, str | int | float | bool | None] = Field(
        default_factory=dict, description="Values templates read as `const.<name>`."
    )
    lookups: dict[Identifier, dict[str, str]] = Field(
        default_factory=dict, description="Look-up tables for `| lookup(<name>)`."
    )
    trigger: Trigger
    steps: list[Step] = Field(min_length=1, max_length=100)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone (e.g. America/New_York)") from None
        return value

    @property
    def zone(self) -> ZoneInfo:
        """Return the flow's time zone."""
        return ZoneInfo(self.timezone)

    def to_data(self) -> dict[str, Any]:
        """Return the document as JSON data, without the values left at their defaults."""
        data = self.model_dump(mode="json", exclude_defaults=True)
        return {"format": self.format, **data}


@dataclass(frozen=True)
class FlowVersion:
    """A flow's document at one version; version 0 is the draft (dry runs of unpublished edits)."""

    flow_id: str
    version: int
    document: FlowDocument
