"""The dispatcher: claims due rows of an outbox and POSTs them, concurrently, at least once.

One asyncio task polls (every `poll_interval_s`, and at once when a commit in this process
queued a row); each claimed row is sent by its own task on one shared httpx client, so one slow
receiver never holds up the others. Database work runs in threads: the stores are synchronous.
Several dispatchers, in one process or many, may share a database: claims are leases (see
`leases`). Logs carry ids, attempt, verdict and status code — never a body sent or received.

What differs between outboxes is a `Channel` (its name, table and wake-ups, which answers
retry) and a subclass's `compose` (how a job becomes a request) and `describe`.
"""

from __future__ import annotations

import abc
import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Generic, Protocol, Self, TypedDict, TypeVar

import httpx

from leadwire.backoff import RetryPolicy, parse_retry_after
from leadwire.logs import redact_url
from leadwire.store.outbox.leases import (
    Claimed,
    OutboxTable,
    Outcome,
    Sessions,
    Verdict,
    claim_due,
    record,
)
from leadwire.store.outbox.wakeups import Wakeups
from leadwire.store.types import utcnow

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0, pool=5.0)
MAX_ERROR_NAP_S = 30.0
MAX_SNIPPET_BYTES = 300
_LEVELS = {
    Verdict.DELIVERED: logging.INFO,
    Verdict.RETRY: logging.WARNING,
    Verdict.FAILED: logging.ERROR,
}


class Job(Claimed, Protocol):
    """A claimed row as the dispatcher needs it: which row, which attempt, and where it goes."""

    @property
    def url(self) -> str: ...


J = TypeVar("J", bound=Job)


@dataclass(frozen=True)
class Request:
    """What to POST for one attempt: the exact bytes, and every header."""

    body: bytes
    headers: Mapping[str, str]


@dataclass(frozen=True)
class Channel(Generic[J]):
    """One outbox: its name, table and wake-ups, and which answers it retries.

    `name` starts every log event (`<name>_attempt`, `<name>_poll_failed`, and `crashed`
    unless given) and, dotted to dashed, names the asyncio tasks.
    """

    name: str
    table: OutboxTable[J, Any]
    wakeups: Wakeups
    classify: Callable[[int], Verdict]
    crashed: str | None = None
    # Errors meaning the URL can never be sent to: the delivery fails at once, unsent.
    unsendable: tuple[type[Exception], ...] = ()

    @property
    def crash_event(self) -> str:
        """Return the log event of a delivery that raised instead of ending in an outcome."""
        return self.crashed or f"{self.name}_crashed"

    @property
    def task_name(self) -> str:
        """Return the prefix of the asyncio tasks' names."""
        return self.name.replace(".", "-")


class Tuning(TypedDict, total=False):
    """How a dispatcher polls and sends; what is left out has a sensible default."""

    poll_interval_s: float
    batch_size: int
    max_in_flight: int
    lease_s: float
    timeout: httpx.Timeout
    transport: httpx.AsyncBaseTransport | None
    unit_random: Callable[[], float] | None
    clock: Callable[[], datetime]


class Dispatcher(abc.ABC, Generic[J]):
    """Delivers one outbox of one store; use as `async with Dispatcher(...):`."""

    def __init__(
        self,
        store: Sessions,
        channel: Channel[J],
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
        self.channel = channel
        self.policy = policy
        # Logs name the module of the concrete dispatcher, the one that says what is sent.
        self.log = logging.getLogger(type(self).__module__)
        self.poll_interval_s = poll_interval_s
        self.batch_size = batch_size
        self.max_in_flight = max_in_flight
        # Each attempt has a hard deadline, and the lease outlives it: a row being sent is never
        # due again while its first sender could still succeed.
        self._deadline_s = _longest_attempt_s(timeout)
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
        return f"{type(self).__name__}(policy={self.policy!r}, in_flight={len(self._in_flight)})"

    async def __aenter__(self) -> Self:
        self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @abc.abstractmethod
    def compose(self, job: J, now: datetime) -> Request | Outcome:
        """Return what to POST for `job`, or the outcome if it cannot be sent at all."""

    @abc.abstractmethod
    def describe(self, job: J) -> str:
        """Return what the attempt log line tells of `job` besides id, attempt and URL."""

    async def housekeep(self) -> None:
        """Do periodic upkeep after each poll (errors count as a failed poll); none by default."""

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

        self._unsubscribe = self.channel.wakeups.subscribe(wake_from_any_thread)
        self._stopping = False
        self._loop_task = asyncio.create_task(
            self._run(), name=f"{self.channel.task_name}-dispatcher"
        )

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
                await self.housekeep()
                failures = 0
            except Exception:
                failures += 1
                self.log.exception("%s_poll_failed consecutive=%d", self.channel.name, failures)
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
            claim_due, self.store, self.channel.table, self._clock(), self.lease_s, free
        )
        for job in jobs:
            task = asyncio.create_task(
                self._deliver(job), name=f"{self.channel.task_name}-{job.id}"
            )
            self._in_flight.add(task)
            task.add_done_callback(self._finished)
        return len(jobs)

    def _finished(self, task: asyncio.Task[None]) -> None:
        was_full = len(self._in_flight) >= self.max_in_flight
        self._in_flight.discard(task)
        if was_full:
            self._wake.set()  # a slot is free again: claim what waited for it

    async def _deliver(self, job: J) -> None:
        channel = self.channel
        try:
            outcome = await self._attempt(job)
            verdict = await asyncio.to_thread(
                record,
                self.store,
                channel.table,
                job,
                outcome,
                self.policy,
                self._clock(),
                self._random,
            )
        except Exception:
            # The lease runs out and the row is tried again; nothing is lost.
            self.log.exception("%s delivery_id=%s", channel.crash_event, job.id)
            return
        self.log.log(
            _LEVELS[verdict],
            "%s_attempt delivery_id=%s %s attempt=%d result=%s code=%s url=%s%s",
            channel.name,
            job.id,
            self.describe(job),
            job.attempt,
            verdict.value,
            outcome.status_code,
            redact_url(job.url),
            # Only our own words: an answer's body could echo the payload back.
            f" error={outcome.error!r}" if outcome.status_code is None else "",
        )

    async def _attempt(self, job: J) -> Outcome:
        assert self._client is not None
        request = self.compose(job, self._clock())
        if isinstance(request, Outcome):
            return request
        try:
            async with (
                asyncio.timeout(self._deadline_s),
                self._client.stream(
                    "POST", job.url, content=request.body, headers=request.headers
                ) as r,
            ):
                snippet = await _read_snippet(r)
        except self.channel.unsendable as exc:
            return Outcome(Verdict.FAILED, error=f"invalid webhook URL ({type(exc).__name__})")
        except TimeoutError:
            return Outcome(Verdict.RETRY, error="timeout (attempt deadline)")
        except httpx.TimeoutException as exc:
            return Outcome(Verdict.RETRY, error=f"timeout ({type(exc).__name__})")
        except httpx.HTTPError as exc:
            return Outcome(Verdict.RETRY, error=f"connection error ({type(exc).__name__})")
        verdict = self.channel.classify(r.status_code)
        if verdict is Verdict.DELIVERED:
            return Outcome(verdict, r.status_code)
        error = f"HTTP {r.status_code} {r.reason_phrase}".strip()
        if snippet:
            error += f": {snippet}"  # stored for the delivery log, never logged
        retry_after = parse_retry_after(r.headers.get("retry-after"), self._clock())
        return Outcome(verdict, r.status_code, error, retry_after)


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
