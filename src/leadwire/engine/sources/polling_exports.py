"""Leads exports, patiently: calls retried through rate limits and outages, exports waited for.

Every Pinterest call of a poll goes through `Pacing.call`: a 429 waits as long as Pinterest
says (never less; `leadwire.backoff` adds jittered exponential backoff when it says nothing),
a 5xx or timeout waits with backoff, a few times. A wait longer than `max_wait_s` is a spent
quota, not a burst: the poll stops with `PollDeferredError` and the account is retried after it.
Waits go through the injected `sleep`, which a stopping worker interrupts.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from typing import TypeVar

from leadwire.backoff import RetryPolicy, backoff_ceiling_s, retry_delay_s
from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.leads import Lead
from leadwire.connectors.pinterest.ratelimits import describe_wait
from leadwire.connectors.pinterest.wire.lead_ads import LeadsExport, LeadsExportStatus
from leadwire.errors import RateLimitedError, RetryableError, UpstreamUnavailableError

log = logging.getLogger(__name__)

T = TypeVar("T")

DEFAULT_CALL_POLICY = RetryPolicy(max_attempts=6, base_s=1.0, cap_s=60.0)
DEFAULT_EXPORT_POLICY = RetryPolicy(max_attempts=1_000, base_s=1.0, cap_s=30.0)


class PollDeferredError(RetryableError):
    """Pinterest asked for a wait too long to spend in a poll (a spent quota): try later."""


class PollStoppedError(Exception):
    """The worker is stopping: the poll ends where it is (the cursor stays where it was)."""


class ExportFailedError(RetryableError):
    """Pinterest reported a leads export FAILED."""


class ExportTimeoutError(RetryableError):
    """A leads export was still IN_PROGRESS when the wait for it ran out."""


@dataclass(frozen=True)
class Pacing:
    """How a poll waits: retry policy, longest acceptable wait, and the sleep and dice it uses."""

    policy: RetryPolicy = DEFAULT_CALL_POLICY
    max_wait_s: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    unit_random: Callable[[], float] = field(default=random.random)

    def call(self, what: str, call: Callable[[], T]) -> T:
        """Return `call()`, retrying rate limits and outages; raise what cannot be waited out."""
        attempt = 0
        while True:
            attempt += 1
            try:
                return call()
            except (RateLimitedError, UpstreamUnavailableError) as exc:
                wait = retry_delay_s(attempt, self.policy, self.unit_random(), exc.retry_after_s)
                limited = isinstance(exc, RateLimitedError)
                if (
                    limited
                    and exc.retry_after_s is not None
                    and exc.retry_after_s > self.max_wait_s
                ):
                    raise PollDeferredError(str(exc), retry_after_s=exc.retry_after_s) from None
                if attempt >= self.policy.max_attempts:
                    if limited:  # still refused after all that: the quota is spent for now
                        raise PollDeferredError(str(exc), retry_after_s=wait) from None
                    raise
                log.info(
                    "polling.waiting what=%s reason=%s attempt=%d wait=%s",
                    what,
                    "rate_limited" if limited else "unavailable",
                    attempt,
                    describe_wait(wait),
                )
                self.sleep(wait)


@dataclass(frozen=True)
class ExportWait:
    """How long to wait for an export: backoff between status checks, and a bound."""

    policy: RetryPolicy = DEFAULT_EXPORT_POLICY
    timeout_s: float = 900.0


def start_export(
    client: PinterestClient, pacing: Pacing, ad_account_id: str, ad_id: str, start: date, end: date
) -> str:
    """Ask Pinterest for an export of one ad's leads over [start, end]; return its id."""
    return pacing.call(
        f"export create ad {ad_id}",
        lambda: client.exports.create(ad_account_id, ad_id, start, end),
    )


def wait_for_leads(
    client: PinterestClient,
    pacing: Pacing,
    wait: ExportWait,
    ad_account_id: str,
    ad_id: str,
    export_id: str,
) -> list[Lead]:
    """Wait until export `export_id` is FINISHED (checking with backoff), then read its leads.

    Raises `ExportFailedError` or `ExportTimeoutError`, naming the ad and the export.
    """
    waited_s = 0.0
    checks = 0
    while True:
        export: LeadsExport = pacing.call(
            f"export status ad {ad_id}", lambda: client.exports.fetch(ad_account_id, export_id)
        )
        checks += 1
        if export.export_status is LeadsExportStatus.FINISHED:
            leads = pacing.call(
                f"export download ad {ad_id}", partial(client.exports.fetch_leads, export)
            )
            log.info(
                "polling.export_read ad_id=%s export_id=%s leads=%d checks=%d",
                ad_id,
                export_id,
                len(leads),
                checks,
            )
            return leads
        if export.export_status is LeadsExportStatus.FAILED:
            raise ExportFailedError(
                f"ad {ad_id}: Pinterest reports leads export {export_id} FAILED"
            )
        delay = backoff_ceiling_s(checks, wait.policy)
        if waited_s + delay > wait.timeout_s:
            raise ExportTimeoutError(
                f"ad {ad_id}: leads export {export_id} still IN_PROGRESS after "
                f"{describe_wait(waited_s)}; it is tried again at the next poll"
            )
        pacing.sleep(delay)
        waited_s += delay
