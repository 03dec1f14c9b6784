"""The two kinds of wire model: bodies we send, and bodies we read.

Python names are snake_case; the wire's camelCase comes from an alias generator, so a model
reads like Python and dumps like HighLevel. A body we send refuses unknown fields (a typo is our
bug, caught before HighLevel answers 422 `property X should not exist`); a body we read ignores
them (HighLevel's answers carry more than its spec lists, contacts-api.md §4.2).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, PlainSerializer
from pydantic.alias_generators import to_camel


def iso_ms(value: datetime) -> str:
    """Format an aware time as HighLevel does: ISO-8601 UTC with milliseconds and `Z`."""
    utc = value.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


WireTime = Annotated[AwareDatetime, PlainSerializer(iso_ms, return_type=str)]
"""An aware time, sent as `2025-12-11T09:00:00.000Z`; a naive one is refused (which zone?)."""


class WireOut(BaseModel):
    """A request body: strict about its own fields, dumped by alias, unset fields left out."""

    model_config = ConfigDict(
        extra="forbid",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        serialize_by_alias=True,
        frozen=True,
    )

    always_sent: ClassVar[frozenset[str]] = frozenset()
    """Fields the API requires that have a default here: sent even when left unset."""

    def wire(self, **extra: Any) -> dict[str, Any]:
        """Return the JSON body: the fields that were set (an explicit None is sent as null)."""
        body = self.model_dump(mode="json", exclude_unset=True)
        if self.always_sent:
            body.update(self.model_dump(mode="json", include=set(self.always_sent)))
        body.update(extra)
        return body


class WireIn(BaseModel):
    """A response body: unknown fields ignored, fields optional unless the API guarantees them."""

    model_config = ConfigDict(
        extra="ignore",
        alias_generator=to_camel,
        validate_by_name=True,
        validate_by_alias=True,
        frozen=True,
    )
