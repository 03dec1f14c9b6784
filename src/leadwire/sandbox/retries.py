"""When the sandbox retries a webhook delivery (the backoff itself is `leadwire.backoff`).

Pinterest's documented rule (reference §8): "Pinterest retries for failures with 429 and 5XX
statuses but not for other 4XX statuses." So a 429, any 5xx, a timeout or a connection error is
retried with exponential backoff and full jitter, never sooner than a `Retry-After` asks; every
other answer that is not 2xx — 408 included, 3xx too (redirects are not followed) — fails at
once. The schedule (attempts, base, cap) is not documented; ours is an ASSUMPTION.
"""

from __future__ import annotations

from dataclasses import dataclass

from leadwire import backoff
from leadwire.backoff import RETRY_AFTER_CEILING_S as RETRY_AFTER_CEILING_S
from leadwire.backoff import backoff_ceiling_s as backoff_ceiling_s
from leadwire.backoff import parse_retry_after as parse_retry_after
from leadwire.backoff import retry_delay_s as retry_delay_s
from leadwire.settings import Settings
from leadwire.store.outbox import Verdict as Verdict
from leadwire.store.outbox import leases

DEFAULT_BASE_S = 2.0
DEFAULT_CAP_S = 300.0
RETRIED_STATUSES = frozenset({429})  # besides every 5xx


@dataclass(frozen=True)
class RetryPolicy(backoff.RetryPolicy):
    """How many attempts a delivery gets, and the exponential backoff between them."""

    max_attempts: int = 10
    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S

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
    return leases.classify(status_code, RETRIED_STATUSES)
