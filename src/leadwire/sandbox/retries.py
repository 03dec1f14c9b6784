"""When the sandbox retries a webhook delivery, and after how long: small pure functions.

Pinterest's documented rule (reference §8): "Pinterest retries for failures with 429 and 5XX
statuses but not for other 4XX statuses." So a 429, any 5xx, a timeout or a connection error is
retried with exponential backoff and full jitter, never sooner than a `Retry-After` asks; every
other answer that is not 2xx — 408 included, 3xx too (redirects are not followed) — fails at
once. The schedule (attempts, base, cap) is not documented; ours is an ASSUMPTION.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from leadwire.settings import Settings

# A receiver's Retry-After beyond a day is taken as a day: a typo must not park a lead for years.
RETRY_AFTER_CEILING_S = 86_400.0
DEFAULT_BASE_S = 2.0
DEFAULT_CAP_S = 300.0


class Verdict(StrEnum):
    """What an answer means for the delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a delivery gets, and the exponential backoff between them."""

    max_attempts: int = 10
    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("need max_attempts >= 1 and 0 < base_s <= cap_s")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """Return the policy the settings ask for."""
        return cls(
            max_attempts=settings.sandbox_delivery_max_attempts,
            base_s=settings.sandbox_delivery_backoff_base_s,
            cap_s=settings.sandbox_delivery_backoff_cap_s,
        )


def classify(status_code: int) -> Verdict:
    """Return what an HTTP answer with `status_code` means for the delivery."""
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code == 429 or status_code >= 500:
        return Verdict.RETRY
    return Verdict.FAILED


def backoff_ceiling_s(attempt: int, policy: RetryPolicy) -> float:
    """Return the longest wait after failed attempt `attempt` (1-based): base·2ⁿ⁻¹, capped."""
    exponent = max(attempt, 1) - 1
    if exponent >= 64:  # the cap was reached long before; stop before the float overflows
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
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
