"""The rate budget a Contacts API response reports, and how long a 429 asks us to wait.

HighLevel allows 100 requests per 10 s and 200,000 per day per app and location, and says how
much is left in five headers on every response (contacts-api.md §9). They are read into a
`RateBudget` the engine's queue limiter follows. A 429's wait comes from `Retry-After` (seconds
or an HTTP date); when it is missing, from the budget: the rest of the UTC day if the daily
quota is spent, else one burst interval. Pure functions; the clock is an argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime

MAX_WAIT_S = 2 * 86_400.0
"""A longer wait is a misread (or nonsense); it is capped here."""

HEADERS = {
    "daily_limit": "x-ratelimit-limit-daily",
    "daily_remaining": "x-ratelimit-daily-remaining",
    "interval_ms": "x-ratelimit-interval-milliseconds",
    "burst_limit": "x-ratelimit-max",
    "burst_remaining": "x-ratelimit-remaining",
}
_INT = re.compile(r"\s*([0-9]{1,12})(?:\.0*)?\s*")
_SECONDS = re.compile(r"\s*([0-9]{1,10}(?:\.[0-9]{1,6})?)\s*")


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What one response said about the rate budget of (app or key, location).

    A header the response lacked (or garbled) is None. `observed_at` is when the response came.
    """

    observed_at: datetime
    daily_limit: int | None = None
    daily_remaining: int | None = None
    interval_ms: int | None = None
    burst_limit: int | None = None
    burst_remaining: int | None = None

    @property
    def interval_s(self) -> float | None:
        """Return the burst window in seconds."""
        return None if self.interval_ms is None else self.interval_ms / 1000

    @property
    def is_daily_exhausted(self) -> bool:
        """Tell whether nothing is left of today's quota."""
        return self.daily_remaining is not None and self.daily_remaining <= 0

    @property
    def is_burst_exhausted(self) -> bool:
        """Tell whether nothing is left in the current burst window."""
        return self.burst_remaining is not None and self.burst_remaining <= 0


def _int(raw: str | None) -> int | None:
    if raw is None:
        return None
    found = _INT.fullmatch(raw)
    return int(found.group(1)) if found else None


def read_budget(headers: Mapping[str, str], now: datetime) -> RateBudget | None:
    """Return the budget the five `X-RateLimit-*` headers state, None if none is there."""
    lowered = {k.lower(): v for k, v in headers.items()}
    values = {name: _int(lowered.get(header)) for name, header in HEADERS.items()}
    if all(v is None for v in values.values()):
        return None
    return RateBudget(observed_at=now, **values)


def _retry_after(raw: str, now: datetime) -> float | None:
    found = _SECONDS.fullmatch(raw)
    if found is not None:
        return float(found.group(1))
    try:
        when = parsedate_to_datetime(raw.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def seconds_to_utc_midnight(now: datetime) -> float:
    """Return the seconds until the next UTC day begins (when a daily quota resets)."""
    utc = now.astimezone(UTC)
    midnight = (utc + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return (midnight - utc).total_seconds()


def retry_after_s(
    headers: Mapping[str, str], budget: RateBudget | None, now: datetime
) -> float | None:
    """Return how long a 429 asks us to wait, or None if neither header nor budget says.

    `Retry-After` wins (the server's instruction for this very answer). Without it, a spent
    daily quota means the rest of the UTC day (HighLevel does not say when its day turns; the
    embedded CRM's is UTC), anything else one burst interval (the longest a window can last).
    """
    raw = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
    wait = _retry_after(raw, now) if raw is not None else None
    if wait is None and budget is not None:
        if budget.is_daily_exhausted:
            wait = seconds_to_utc_midnight(now)
        elif budget.interval_s is not None:
            wait = budget.interval_s
    if wait is None or not math.isfinite(wait):
        return None
    return min(max(wait, 0.0), MAX_WAIT_S)
