"""The webhook dispatcher: POSTs the outbox's deliveries, each signed with this CRM's key.

The loop (claims, leases, concurrency, wake-ups, retries) is `leadwire.store.outbox`'s; this
says how a delivery becomes a request — the payload stamped with this attempt's time, signed —
and prunes old rows now and then. Logs carry the event type, delivery id, attempt and status —
never the payload, which holds emails and phone numbers, nor the signing keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from datetime import datetime
from typing import Any, Unpack

import httpx

from leadwire.crm.store import CrmStore
from leadwire.crm.webhooks import outbox, retries, wakeups
from leadwire.crm.webhooks.outbox import Job
from leadwire.crm.webhooks.retries import RetryPolicy
from leadwire.crm.webhooks.signing import SigningKeys
from leadwire.crm.wire.common import iso_ms
from leadwire.store.outbox import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
from leadwire.store.outbox import Channel, Request, Tuning
from leadwire.store.outbox import Dispatcher as OutboxDispatcher

log = logging.getLogger(__name__)

USER_AGENT = "leadwire-crm-webhooks/1"
HOUSEKEEPING_EVERY_S = 600.0

CHANNEL = Channel(
    "crm.webhook",
    outbox.TABLE,
    wakeups.WAKEUPS,
    retries.classify,
    crashed="crm.webhook_delivery_crashed",
    # A URL httpx cannot send to will never work: fail the delivery at once, don't re-lease it.
    unsendable=(httpx.InvalidURL, httpx.UnsupportedProtocol),
)


def encode_body(payload: dict[str, Any], timestamp: datetime) -> bytes:
    """Return the exact bytes to send and sign: the payload with this attempt's `timestamp`."""
    body = {**payload, "timestamp": iso_ms(timestamp)}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Dispatcher(OutboxDispatcher[Job]):
    """Delivers the outbox of one CRM store; use as `async with Dispatcher(...):`."""

    store: CrmStore

    def __init__(
        self, store: CrmStore, keys: SigningKeys, *, policy: RetryPolicy, **tuning: Unpack[Tuning]
    ) -> None:
        tuning.setdefault("poll_interval_s", 0.2)  # the CRM's own default (the sandbox's: 0.5)
        super().__init__(store, CHANNEL, policy=policy, **tuning)
        self.keys = keys
        self._next_housekeeping = 0.0

    def compose(self, job: Job, now: datetime) -> Request:
        """Return the signed event: the payload stamped with `now`."""
        body = encode_body(job.payload, now)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **self.keys.signature_headers(body),
        }
        return Request(body, headers)

    def describe(self, job: Job) -> str:
        """Return the event type, for the attempt log line."""
        return f"event={job.event_type}"

    async def housekeep(self) -> None:
        """Prune old deliveries and expired idempotency records, every ten minutes."""
        if time.monotonic() < self._next_housekeeping:
            return
        self._next_housekeeping = time.monotonic() + HOUSEKEEPING_EVERY_S
        delivered, failed, keys = await asyncio.to_thread(outbox.prune, self.store, self._clock())
        if delivered or failed or keys:
            log.info(
                "crm.housekeeping deliveries_delivered_pruned=%d deliveries_failed_pruned=%d "
                "idempotency_keys_pruned=%d",
                delivered,
                failed,
                keys,
            )
