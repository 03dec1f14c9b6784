"""When Pinterest allows a refused call again: the wait parsed from a 429, and how to say it.

Pinterest's spec declares no response headers. Observed in the wild (reference §7):
`X-RateLimit-Reset` carrying the seconds until the quota resets (Airbyte keys on it; values of
~67,150 s were seen, i.e. a *daily* quota), the standard `Retry-After`, and "Retry after N seconds"
inside the error message of the analytics endpoints. All three are read here, pure and testable.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

DAILY_QUOTA_THRESHOLD_S = 15 * 60
"""A wait longer than this is not a burst limit but an exhausted (daily) quota, and is said so."""

MAX_WAIT_S = 7 * 86_400
"""Longer waits are nonsense (or an absolute time we misread); they are capped here."""

_EPOCH_FLOOR_S = 1_000_000_000
_NUMBER = re.compile(r"\s*([0-9]{1,15}(?:\.[0-9]{1,6})?)\s*")
_IN_MESSAGE = re.compile(r"(?i)retry after ([0-9]{1,9}) seconds?")


def _seconds(text: str, now: datetime) -> float | None:
    """Return a wait in seconds from delta-seconds, an absolute epoch, or an HTTP date."""
    match = _NUMBER.fullmatch(text)
    if match is not None:
        value = float(match.group(1))
        # A value past 2001-09-09 as seconds is an absolute Unix time, not a delta: some APIs send
        # X-RateLimit-Reset that way, and no delta that large is meaningful.
        if value >= _EPOCH_FLOOR_S:
            value -= now.timestamp()
        return value
    try:
        when = parsedate_to_datetime(text.strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (when - now).total_seconds()


def parse_retry_after(
    headers: Mapping[str, str], message: str | None, now: datetime
) -> float | None:
    """Return how many seconds to wait before retrying, or None if the response does not say.

    `Retry-After` wins when present (it is the server's instruction for this very response);
    else `X-RateLimit-Reset`; else a "Retry after N seconds" in Pinterest's message.
    """
    lowered = {k.lower(): v for k, v in headers.items()}
    for name in ("retry-after", "x-ratelimit-reset"):
        raw = lowered.get(name)
        if raw is None:
            continue
        wait = _seconds(raw, now)
        if wait is not None and math.isfinite(wait):
            return min(max(wait, 0.0), float(MAX_WAIT_S))
    if message:
        found = _IN_MESSAGE.search(message)
        if found is not None:
            return min(float(found.group(1)), float(MAX_WAIT_S))
    return None


def is_daily_quota(
    retry_after_s: float | None, threshold_s: float = DAILY_QUOTA_THRESHOLD_S
) -> bool:
    """Return whether a wait is long enough to mean the (daily) quota is spent."""
    return retry_after_s is not None and retry_after_s > threshold_s


def describe_wait(seconds: float) -> str:
    """Return a wait as people read it: `45 s`, `12.5 min`, `18.6 h`."""
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 3 * 3600:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"
