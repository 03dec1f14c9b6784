"""Formats shared by every CRM response: times, and the strict base of request DTOs."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def refuse_nul(value: Any) -> Any:
    """Return `value` unless a string in it holds a NUL character, which PostgreSQL can't store."""
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("must not contain NUL characters")
    if isinstance(value, list) and any(isinstance(v, str) and "\x00" in v for v in value):
        raise ValueError("must not contain NUL characters")
    return value


def iso_ms(value: datetime | None) -> str | None:
    """Format `value` as HighLevel does: ISO-8601 UTC with milliseconds and `Z`."""
    if value is None:
        return None
    return (
        value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}Z"
    )


class StrictDto(BaseModel):
    """A request body: unknown properties are refused (422 `property X should not exist`)."""

    model_config = ConfigDict(extra="forbid", strict=True, str_max_length=10_000)

    @field_validator("*", mode="before")
    @classmethod
    def _no_nul(cls, value: Any) -> Any:
        return refuse_nul(value)
