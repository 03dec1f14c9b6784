"""When to retry a delivery, and after how long: small pure functions, property-tested.

We retry what may succeed later — 429, 408, any 5xx, timeouts and connection errors — and
give up at once on every other answer (3xx and 4xx), as Pinterest does for its own webhooks.
HighLevel's guide says it retries every non-2xx answer up to 12 times; we deliberately do not
retry a 410 or a 404 that cannot change by itself, so a dead receiver costs one request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum

from leadwire.settings import Settings

# Retry-After values beyond a day are taken as a day: a receiver's typo must not park a
# delivery for years, and a day is long enough for any honest maintenance window.
RETRY_AFTER_CEILING_S = 86_400.0
DEFAULT_BASE_S = 30.0
DEFAULT_CAP_S = 3_600.0


class Verdict(StrEnum):
    """What an answer means for the delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class RetryPolicy:
    """How many attempts a delivery gets, and the exponential backoff between them."""

    max_attempts: int = 8
    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S

    def __post_init__(self) -> None:
        if self.max_attempts < 1 or self.base_s <= 0 or self.cap_s < self.base_s:
            raise ValueError("need max_attempts >= 1 and 0 < base_s <= cap_s")

    @classmethod
    def from_settings(cls, settings: Settings) -> RetryPolicy:
        """Return the policy the settings ask for."""
        return cls(
            max_attempts=settings.crm_webhook_max_attempts,
            base_s=settings.crm_webhook_backoff_base_s,
            cap_s=settings.crm_webhook_backoff_cap_s,
        )


def classify(status_code: int) -> Verdict:
    """Return what an HTTP answer with `status_code` means for the delivery."""
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code in (408, 429) or status_code >= 500:
        return Verdict.RETRY
    return Verdict.FAILED


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
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max((when - now).total_seconds(), 0.0)
