"""When to retry a delivery, and after how long (the backoff itself is `leadwire.backoff`).

We retry what may succeed later — 429, 408, any 5xx, timeouts and connection errors — and
give up at once on every other answer (3xx and 4xx), as Pinterest does for its own webhooks.
HighLevel's guide says it retries every non-2xx answer up to 12 times; we deliberately do not
retry a 410 or a 404 that cannot change by itself, so a dead receiver costs one request.
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

DEFAULT_BASE_S = 30.0
DEFAULT_CAP_S = 3_600.0
# Besides every 5xx; RFC 9110 lets a client repeat a request its receiver timed out on (408).
RETRIED_STATUSES = frozenset({408, 429})


@dataclass(frozen=True)
class RetryPolicy(backoff.RetryPolicy):
    """How many attempts a delivery gets, and the exponential backoff between them."""

    max_attempts: int = 8
    base_s: float = DEFAULT_BASE_S
    cap_s: float = DEFAULT_CAP_S

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
    return leases.classify(status_code, RETRIED_STATUSES)
