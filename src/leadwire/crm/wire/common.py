"""Formats shared by every CRM response: times, and the strict base of request DTOs."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, ConfigDict


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
