"""Webhook deliveries: the dispatcher that POSTs each new lead, and the log a user reads.

Every lead `record_lead` stores gets a pending `Delivery` per matching subscription. The
dispatcher (run by the sandbox app's lifespan) claims due rows (`outbox`), encrypts the lead
with the subscription's key in the envelope of `connectors/pinterest/envelope.py`, and POSTs it
as `application/json` — one lead per request, no authentication header (Pinterest's webhooks
carry none). Retries follow `retries`: 429, 5xx, timeouts and connection errors only.

One asyncio task polls (every `poll_interval_s`, and at once when a commit in this process
queued a delivery); each claimed delivery is sent by its own task on one shared httpx client, so
one slow receiver never holds up the others. Database work runs in threads: the store is
synchronous. Logs carry ids, attempt, verdict and status code — never the key, the answers, or
the receiver's body.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from datetime import datetime
from types import TracebackType

import httpx
from cryptography.exceptions import InvalidTag
from sqlalchemy import Select, select

from leadwire.connectors.pinterest.envelope import encode_delivery
from leadwire.logs import redact_url
from leadwire.sandbox import keys, outbox
from leadwire.sandbox.models import Delivery, Subscription, utcnow
from leadwire.sandbox.outbox import Job, Outcome
from leadwire.sandbox.retries import RetryPolicy, Verdict, classify, parse_retry_after
from leadwire.sandbox.store import SandboxStore

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=5.0)
USER_AGENT = "leadwire-pinterest-sandbox/1"
MAX_ERROR_NAP_S = 30.0
MAX_SNIPPET_BYTES = 300
STATUSES = ("pending", "delivered", "failed")
# Names reserved for documentation (RFC 2606, RFC 6761): no receiver lives there, and a POST to
# example.com would hand a fake lead to IANA's web server. Such deliveries fail, unsent.
RESERVED_DOMAINS = ("example.com", "example.net", "example.org")
RESERVED_TLDS = ("example", "test", "invalid")
_LEVELS = {
    Verdict.DELIVERED: logging.INFO,
    Verdict.RETRY: logging.WARNING,
    Verdict.FAILED: logging.ERROR,
}


class Dispatcher:
    """Delivers the pending deliveries of one sandbox store; use as `async with Dispatcher(...):`.

    Several dispatchers, in one process or many, may share a database: claims are leases.
    """

    def __init__(
        self,
        store: SandboxStore,
        master_key: bytes,
        *,
        policy: RetryPolicy,
        poll_interval_s: float = 0.5,
        batch_size: int = 20,
        max_in_flight: int = 32,
        lease_s: float = 60.0,
        timeout: httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
        unit_random: Callable[[], float] | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self._master_key = master_key
        self.policy = policy
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        # Each attempt has a hard deadline and the lease outlives it: a row being sent is never
        # due again while its first sender could still succeed.
        self._deadline_s = sum(
            part
            for part in (timeout.connect, timeout.write, timeout.read, timeout.pool)
            if part is not None
        )
        self.lease_s = max(lease_s, self._deadline_s + 5.0)
        self._timeout = timeout
        self._transport = transport
        # A generator of its own: drawing from the global one in a background thread would
        # change its state under anyone else using it (Hypothesis checks and complains).
        self._random = unit_random or random.Random().random
        self._clock = clock
        self._client: httpx.AsyncClient | None = None
        self._wake = asyncio.Event()
        self._stopping = False
        self._loop_task: asyncio.Task[None] | None = None
        self._in_flight: set[asyncio.Task[None]] = set()
        self._unsubscribe: Callable[[], None] | None = None

    def __repr__(self) -> str:
        return f"Dispatcher(policy={self.policy!r}, in_flight={len(self._in_flight)})"

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
            trust_env=False,  # proxies come from Settings or nowhere
        )

        def wake_from_any_thread() -> None:
            loop.call_soon_threadsafe(self._wake.set)

        self._unsubscribe = outbox.subscribe(wake_from_any_thread)
        self._stopping = False
        self._loop_task = asyncio.create_task(self._run(), name="sandbox-delivery-dispatcher")

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
                failures = 0
            except Exception:
                failures += 1
                log.exception("sandbox.delivery_poll_failed consecutive=%d", failures)
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
            task = asyncio.create_task(self._deliver(job), name=f"sandbox-delivery-{job.id}")
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
            log.exception("sandbox.delivery_crashed delivery_id=%s", job.id)
            return
        log.log(
            _LEVELS[verdict],
            "sandbox.delivery_attempt delivery_id=%s subscription_id=%s attempt=%d result=%s "
            "code=%s url=%s%s",
            job.id,
            job.subscription_id,
            job.attempt,
            verdict.value,
            outcome.status_code,
            redact_url(job.url),
            # Only our own words: a receiver's body could echo the lead back.
            f" error={outcome.error!r}" if outcome.status_code is None else "",
        )

    def _body(self, job: Job) -> bytes | Outcome:
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
        return encode_delivery([job.lead], key)

    async def _attempt(self, job: Job) -> Outcome:
        assert self._client is not None
        body = self._body(job)
        if isinstance(body, Outcome):
            return body
        headers = {"content-type": "application/json", "user-agent": USER_AGENT}
        try:
            async with (
                asyncio.timeout(self._deadline_s),
                self._client.stream("POST", job.url, content=body, headers=headers) as r,
            ):
                snippet = await _read_snippet(r)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol) as exc:
            return Outcome(Verdict.FAILED, error=f"invalid webhook URL ({type(exc).__name__})")
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
            error += f": {snippet}"  # stored for the delivery log, never logged
        retry_after = parse_retry_after(r.headers.get("retry-after"), self._clock())
        return Outcome(verdict, r.status_code, error, retry_after)


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


async def _read_snippet(response: httpx.Response) -> str:
    """Return the start of the answer's body on one line; read a short body to its end so
    the connection can be reused."""
    data = b""
    async for chunk in response.aiter_raw():
        data += chunk
        if len(data) >= MAX_SNIPPET_BYTES:
            break
    return " ".join(data[:MAX_SNIPPET_BYTES].decode("utf-8", "replace").split())


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
