"""ISO-8601 timestamps in request bodies (task due dates, workflow start times)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import BeforeValidator

_NOT_ISO = "must be a valid ISO 8601 date string"


def parse_iso_datetime(value: object) -> object:
    """Return `value` as an aware UTC datetime at millisecond precision; ValueError if not ISO.

    A time without a zone, or a bare date, is taken as UTC: HighLevel's examples always carry
    `Z`, and UTC is the only reading that does not depend on where the server runs.
    """
    if value is None:
        return None
    if not isinstance(value, str):
        raise ValueError(_NOT_ISO)
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(_NOT_ISO) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    parsed = parsed.astimezone(UTC)
    # The wire shows milliseconds; storing more would make a read differ from the write.
    return parsed.replace(microsecond=parsed.microsecond // 1000 * 1000)


IsoDateTime = Annotated[datetime, BeforeValidator(parse_iso_datetime)]
