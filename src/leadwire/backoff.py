"""How long to wait before trying again: small pure functions, property-tested.

Exponential backoff with full jitter: after failed attempt n (1-based) the wait is drawn evenly
from [0, min(cap, base·2ⁿ⁻¹)), so many retriers that failed together spread out instead of
striking again in step. A server's `Retry-After` is a floor, not a suggestion, but one beyond a
day is read as a day. The caller draws the random number, so these functions stay pure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

# A Retry-After beyond a day is taken as a day: a typo on the other side must not park a job
# for years, and a day is long enough for any honest maintenance window.
RETRY_AFTER_CEILING_S = 86_400.0


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a job gets, and the exponential backoff between them."""

    max_attempts: int
    base_s: float
    cap_s: float

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("need max_attempts >= 1 and 0 < base_s <= cap_s")


def backoff_ceiling_s(attempt: int, policy: RetryPolicy) -> float:
    """Return the longest wait after failed attempt `attempt` (1-based): base·2ⁿ⁻¹, capped."""
    exponent = max(attempt, 1) - 1
    # Past 2**64 the cap has long been reached; stop before the float overflows.
    if exponent >= 64:
        return policy.cap_s
    return min(policy.cap_s, policy.base_s * 2.0**exponent)


def retry_delay_s(
    attempt: int, policy: RetryPolicy, unit_random: float, retry_after_s: float | None = None
) -> float:
    """Return the wait before the next attempt: full jitter, but never less than Retry-After.

    `unit_random` is a number in [0, 1) from the caller's random source, so this stays pure.
    """
    jittered = backoff_ceiling_s(attempt, policy) * min(max(unit_random, 0.0), 1.0)
    if retry_after_s is None:
        return jittered
    return max(jittered, min(max(retry_after_s, 0.0), RETRY_AFTER_CEILING_S))


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Return the seconds a `Retry-After` header asks to wait (delta-seconds or HTTP-date)."""
    text = (value or "").strip()
    if not text:
        return None
    # RFC 9110 delta-seconds are ASCII digits; str.isdigit alone also passes "²" (which float()
    # refuses) and full-width digits (which it reads).
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
