"""Webhook deliveries: the dispatcher that POSTs each new lead, and the log a user reads.

Every lead `record_lead` stores gets a pending `Delivery` per matching subscription. The
dispatcher (run by the sandbox app's lifespan) claims due rows, encrypts the lead with the
subscription's key in the envelope of `connectors/pinterest/envelope.py`, and POSTs it as
`application/json` — one lead per request, no authentication header (Pinterest's webhooks
carry none). Retries follow `retries`: 429, 5xx, timeouts and connection errors only.

The loop (claims, leases, concurrency, wake-ups) is `leadwire.store.outbox`'s; this says how a
delivery becomes a request. Logs carry ids, attempt, verdict and status code — never the key,
the answers, or the receiver's body.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Unpack

import httpx
from cryptography.exceptions import InvalidTag
from sqlalchemy import Select, select

from leadwire.connectors.pinterest.envelope import encode_delivery
from leadwire.sandbox import keys, outbox, retries
from leadwire.sandbox.models import Delivery, Subscription
from leadwire.sandbox.outbox import Job
from leadwire.sandbox.retries import RetryPolicy
from leadwire.sandbox.store import SandboxStore
from leadwire.store.outbox import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from leadwire.store.outbox import Channel, Outcome, Request, Tuning, Verdict
from leadwire.store.outbox import Dispatcher as OutboxDispatcher

log = logging.getLogger(__name__)

USER_AGENT = "leadwire-pinterest-sandbox/1"
STATUSES = ("pending", "delivered", "failed")
# Names reserved for documentation (RFC 2606, RFC 6761): no receiver lives there, and a POST to
# example.com would hand a fake lead to IANA's web server. Such deliveries fail, unsent.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid")

CHANNEL = Channel(
    "sandbox.delivery",
    outbox.TABLE,
    outbox.WAKEUPS,
    retries.classify,
    unsendable=(httpx.InvalidURL, httpx.UnsupportedProtocol),
)


class Dispatcher(OutboxDispatcher[Job]):
    """Delivers the pending deliveries of one sandbox store; use as `async with Dispatcher(...):`.

    Several dispatchers, in one process or many, may share a database: claims are leases.
    """

    def __init__(
        self,
        store: SandboxStore,
        master_key: bytes,
        *,
        policy: RetryPolicy,
        **tuning: Unpack[Tuning],
    ) -> None:
        super().__init__(store, CHANNEL, policy=policy, **tuning)
        self._master_key = master_key

    def compose(self, job: Job, now: datetime) -> Request | Outcome:
        """Return the lead encrypted with the subscription's key, or why it cannot be sent."""
        reserved = reserved_host(job.url)
        if reserved is not None:
            return Outcome(
                Verdict.FAILED,
                error=f"not sent: {reserved} is reserved for documentation (RFC 2606)",
            )
        if job.lead is None:
            return Outcome(Verdict.FAILED, error="the stored lead cannot be read")
        try:
            key = keys.unseal(self._master_key, job.subscription_id, job.sealed_key)
        except (InvalidTag, ValueError):
            # Another master key (a data folder copied without its key file): no retry helps.
            return Outcome(Verdict.FAILED, error="the subscription key cannot be unsealed")
        body = encode_delivery([job.lead], key)
        return Request(body, {"content-type": "application/json", "user-agent": USER_AGENT})

    def describe(self, job: Job) -> str:
        """Return the subscription, for the attempt log line."""
        return f"subscription_id={job.subscription_id}"


def reserved_host(url: str) -> str | None:
    """Return the URL's host if it is a name reserved for documentation, else None."""
    try:
        host = (httpx.URL(url).host or "").lower().rstrip(".")
    except httpx.InvalidURL:
        return None
    parent = host.rsplit(".", 2)[-2:]
    if host.rsplit(".", 1)[-1] in RESERVED_TLDS or ".".join(parent) in RESERVED_DOMAINS:
        return host
    return None


def log_query(
    *,
    ad_account_id: str | None = None,
    subscription_id: str | None = None,
    lead_id: str | None = None,
    statuses: Sequence[str] = (),
) -> Select[Delivery]:
    """Return the delivery log's query, filtered by account, subscription, lead and status.

    Unordered: callers page it by id (ids grow with time, so by id is by age).
    """
    query = select(Delivery)
    if ad_account_id is not None:
        owned = select(Subscription.id).where(Subscription.ad_account_id == ad_account_id)
        query = query.where(Delivery.subscription_id.in_(owned))
    if subscription_id is not None:
        query = query.where(Delivery.subscription_id == subscription_id)
    if lead_id is not None:
        query = query.where(Delivery.lead_id == lead_id)
    if statuses:
        query = query.where(Delivery.status.in_(statuses))
    return query
