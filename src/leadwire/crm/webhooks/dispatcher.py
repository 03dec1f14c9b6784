"""The dispatcher: claims due deliveries from the outbox and POSTs them, signed, concurrently.

One asyncio task polls (every `poll_interval_s`, and at once when a commit in this process
queued a delivery); each claimed delivery is sent by its own task on one shared httpx client,
so one slow receiver never holds up the others. Database work runs in threads: the store is
synchronous. Several dispatchers, in one process or many, can share a database: claims are
leases (see `outbox`). Logs carry the event type, delivery id, attempt and status — never the
payload, which holds emails and phone numbers, nor the signing keys.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from datetime import datetime
from types import TracebackType
from typing import Any

import httpx

from leadwire.crm.models import utcnow
from leadwire.crm.store import CrmStore
from leadwire.crm.webhooks import outbox, wakeups
from leadwire.crm.webhooks.outbox import Job, Outcome
from leadwire.crm.webhooks.retries import RetryPolicy, Verdict, classify, parse_retry_after
from leadwire.crm.webhooks.signing import SigningKeys
from leadwire.crm.wire.common import iso_ms
from leadwire.logs import redact_url

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=5.0)
USER_AGENT = "leadwire-crm-webhooks/1"
HOUSEKEEPING_EVERY_S = 600.0
MAX_ERROR_NAP_S = 30.0
MAX_SNIPPET_BYTES = 300
_LEVELS = {
    Verdict.DELIVERED: logging.INFO,
    Verdict.RETRY: logging.WARNING,
    Verdict.FAILED: logging.ERROR,
}


def encode_body(payload: dict[str, Any], timestamp: datetime) -> bytes:
    """Return the exact bytes to send and sign: the payload with this attempt's `timestamp`."""
    body = {**payload, "timestamp": iso_ms(timestamp)}
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


class Dispatcher:
    """Delivers the outbox of one CRM store; use as `async with Dispatcher(...):`."""

    def __init__(
        self,
        store: CrmStore,
        keys: SigningKeys,
        *,
        policy: RetryPolicy,
        poll_interval_s: float = 0.2,
        batch_size: int = 20,
        max_in_flight: int = 32,
        lease_s: float = 60.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        unit_random: Callable[[], float] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.keys = keys
        self.policy = policy
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        # Each attempt has a hard deadline, and the lease outlives it: a row being sent is never
        # due again while its first sender could still succeed.
        self._deadline_s = _longest_attempt_s(timeout)
        self.lease_s = max(lease_s, self._deadline_s + 5.0)
        self._timeout = timeout
        self._transport = transport
        # Its own generator: the global one is shared with every other thread (and with tests).
        self._random = unit_random or random.Random().random
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._next_housekeeping = 0.0

    async def __aenter__(self) -> Dispatcher:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    def start(self) -> None:
        """Start polling and delivering on the running event loop."""
        loop = asyncio.get_running_loop()
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            limits=httpx.Limits(max_connections=self.max_in_flight),
            transport=self._transport,
            follow_redirects=False,
            # Proxies come from Settings or nowhere: nothing else reads the environment.
            trust_env=False,
        )

        def wake_from_any_thread() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self._unsubscribe = wakeups.subscribe(wake_from_any_thread)
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name="crm-webhook-dispatcher")

    async def stop(self, grace_s: float = 5.0) -> None:
        """Stop polling; give deliveries in flight `grace_s` to finish, then cancel them.

        A cancelled delivery keeps its lease and is sent again when the lease runs out.
        """
        self._stopping = True
        self._wake.set()
        if self._unsubscribe is not None:
            self._unsubscribe()
        if self._loop_task is not None:
            await self._loop_task
        if self._in_flight:
            _, pending = await asyncio.wait(set(self._in_flight), timeout=grace_s)
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)
        if self._client is not None:
            await self._client.aclose()

    async def _run(self) -> None:
        failures = 0
        while not self._stopping:
            self._wake.clear()
            claimed = 0
            try:
                claimed = await self._claim_and_send()
                await self._housekeep()
                failures = 0
            except Exception:
                failures += 1
                log.exception("crm.webhook_poll_failed consecutive=%d", failures)
            if claimed >= self.batch_size:
                continue  # more may be due: no nap
            # While the database fails, poll less and less often (up to 30 s) to spare the logs.
            nap_s = self.poll_interval_s
            if failures:
                nap_s = min(nap_s * 2.0 ** min(failures, 16), MAX_ERROR_NAP_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(nap_s):
                    await self._wake.wait()

    async def _claim_and_send(self) -> int:
        free = min(self.batch_size, self.max_in_flight - len(self._in_flight))
        if free <= 0:
            return 0
        jobs = await asyncio.to_thread(
            outbox.claim_due, self.store, self._clock(), self.lease_s, free
        )
        for job in jobs:
            task = asyncio.create_task(self._deliver(job), name=f"crm-webhook-{job.id}")
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        was_full = len(self._in_flight) >= self.max_in_flight
        self._in_flight.discard(task)
        if was_full:
            self._wake.set()  # a slot is free again: claim what waited for it

    async def _deliver(self, job: Job) -> None:
        try:
            outcome = await self._attempt(job)
            verdict = await asyncio.to_thread(
                outbox.record, self.store, job, outcome, self.policy, self._clock(), self._random
            )
        except Exception:
            # The lease runs out and the row is tried again; nothing is lost.
            log.exception("crm.webhook_delivery_crashed delivery_id=%s", job.id)
            return
        level = _LEVELS[verdict]
        log.log(
            level,
            "crm.webhook_attempt delivery_id=%s event=%s attempt=%d result=%s code=%s url=%s%s",
            job.id,
            job.event_type,
            job.attempt,
            verdict.value,
            outcome.status_code,
            redact_url(job.url),
            # Only our own words: an answer's body could echo the payload back.
            f" error={outcome.error!r}" if outcome.status_code is None else "",
        )

    async def _attempt(self, job: Job) -> Outcome:
        assert self._client is not None
        body = encode_body(job.payload, self._clock())
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            **self.keys.signature_headers(body),
        }
        try:
            async with (
                asyncio.timeout(self._deadline_s),
                self._client.stream("POST", job.url, content=body, headers=headers) as r,
            ):
                snippet = await _read_snippet(r)
        except TimeoutError:
            return Outcome(Verdict.RETRY, error="timeout (attempt deadline)")
        except httpx.TimeoutException as exc:
            return Outcome(Verdict.RETRY, error=f"timeout ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return Outcome(Verdict.RETRY, error=f"connection error ({type(exc).__name__})")
        verdict = classify(r.status_code)
        if verdict is Verdict.DELIVERED:
            return Outcome(verdict, r.status_code)
        error = f"HTTP {r.status_code} {r.reason_phrase}".strip()
        if snippet:
            error += f": {snippet}"  # stored for `webhook deliveries`, never logged
        retry_after = parse_retry_after(r.headers.get("retry-after"), self._clock())
        return Outcome(verdict, r.status_code, error, retry_after)

    async def _housekeep(self) -> None:
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


async def _read_snippet(response: httpx.Response) -> str:
    """Return the start of the answer's body, one line, for `last_error`; never the whole.

    A short body is read to its end so the connection can be reused.
    """
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= MAX_SNIPPET_BYTES:
            break
    return " ".join(data[:MAX_SNIPPET_BYTES].decode("utf-8", "replace").split())


def _longest_attempt_s(timeout: httpx.Timeout) -> float:
    parts = (timeout.connect, timeout.write, timeout.read, timeout.pool)
    return sum(p for p in parts if p is not None)
