"""The base of every request body, and a string type every store accepts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar

from pydantic import AfterValidator, BaseModel, ConfigDict, StrictStr, model_validator


def _storable(value: str) -> str:
    # PostgreSQL refuses NUL in text, and no database takes lone surrogates (which JSON's
    # "\ud800" escapes can produce): refuse both here as a 400 rather than fail as a 500.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[StrictStr, AfterValidator(_storable)]


class Body(BaseModel):
    """A request body: unknown properties are ignored, as clients of a growing API expect.

    `NOT_NULL` names the optional fields the spec does not mark nullable: they may be left
    out, but an explicit `null` is refused.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)
    NOT_NULL: ClassVar[tuple[str, ...]] = ()

    @model_validator(mode="before")
    @classmethod
    def _refuse_nulls(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name in cls.NOT_NULL:
                if name in data and data[name] is None:
                    raise ValueError(f"{name} must not be null")
        return data


def seconds(value: datetime) -> int:
    """Return a time as Unix seconds (lead forms, ads, campaigns)."""
    return int(value.astimezone(UTC).timestamp())


def millis(value: datetime) -> int:
    """Return a time as Unix milliseconds (subscriptions)."""
    return int(value.astimezone(UTC).timestamp() * 1000)
