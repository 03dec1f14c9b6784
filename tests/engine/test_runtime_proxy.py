"""A controllable HTTP proxy in front of the CRM, for the runtime's fault tests.

Requests pass through to the CRM unless a fault rule matches (by a substring of the
`Idempotency-Key` header, which the test executor sends on every call and which names the run
and the step); a matching rule answers instead, once per queued answer. Every request is
logged with its arrival time, so tests can check the waits between attempts.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field

import httpx
from starlette.types import Receive, Scope, Send

from tests.servers import running


@dataclass
class Fault:
    """Answers to give, in order, to requests whose idempotency key contains `key_part`."""

    key_part: str
    answers: list[tuple[int, dict[str, str]]]
    # Answer every match with the last answer, forever, once the list is down to one.
    sticky: bool = False


@dataclass(frozen=True)
class Seen:
    """One request the proxy received, and what it answered."""

    at: float
    method: str
    path: str
    key: str
    status: int


@dataclass
class FaultProxy:
    """The ASGI proxy; rules and log are shared with the test thread."""

    upstream: str
    faults: list[Fault] = field(default_factory=list)
    delays: dict[str, float] = field(default_factory=dict)
    holds: dict[str, float] = field(default_factory=dict)
    arrivals: list[tuple[float, str]] = field(default_factory=list)
    log: list[Seen] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""
    # Made on the server's event loop at the first request: one client, kept-alive connections.
    client: httpx.AsyncClient | None = None

    def fail(
        self, key_part: str, *answers: tuple[int, dict[str, str]], sticky: bool = False
    ) -> None:
        """Answer the next requests matching `key_part` with `answers` instead of the CRM's."""
        with self.lock:
            self.faults.append(Fault(key_part, list(answers), sticky))

    def slow(self, key_part: str, delay_s: float) -> None:
        """Delay every request matching `key_part` by `delay_s` before it goes on."""
        with self.lock:
            self.delays[key_part] = delay_s

    def hold(self, key_part: str, delay_s: float) -> None:
        """Delay the next request matching `key_part` (only that one) by `delay_s`."""
        with self.lock:
            self.holds[key_part] = delay_s

    def arrived(self, key_part: str) -> int:
        """Count the requests matching `key_part` that reached the proxy (answered or not)."""
        with self.lock:
            return sum(1 for _, key in self.arrivals if key_part in key)

    def clear(self, key_part: str) -> None:
        """Drop the rules for `key_part`."""
        with self.lock:
            self.faults = [f for f in self.faults if f.key_part != key_part]

    def seen(self, key_part: str) -> list[Seen]:
        """Return the requests whose idempotency key contains `key_part`."""
        with self.lock:
            return [s for s in self.log if key_part in s.key]

    def _take(self, key: str) -> tuple[int, dict[str, str]] | None:
        with self.lock:
            for fault in self.faults:
                if fault.key_part in key and fault.answers:
                    if fault.sticky and len(fault.answers) == 1:
                        return fault.answers[0]
                    return fault.answers.pop(0)
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        headers = {k.decode(): v.decode() for k, v in scope["headers"]}
        key = headers.get("idempotency-key", "")
        arrived = time.monotonic()
        with self.lock:
            self.arrivals.append((arrived, key))
            delay = max((d for part, d in self.delays.items() if part in key), default=0.0)
            for part in [p for p in self.holds if p in key]:
                delay = max(delay, self.holds.pop(part))
        if delay:
            await asyncio.sleep(delay)
        answer = self._take(key)
        if answer is not None:
            status, extra = answer
            out_headers = [(b"content-type", b"application/json")]
            out_headers += [(k.encode(), v.encode()) for k, v in extra.items()]
            content = b'{"statusCode": %d, "message": "injected"}' % status
        else:
            forward = {k: v for k, v in headers.items() if k not in ("host", "content-length")}
            if self.client is None:
                self.client = httpx.AsyncClient(base_url=self.upstream, timeout=30)
            try:
                response = await self.client.request(
                    scope["method"], scope["path"], content=body, headers=forward
                )
            except httpx.TransportError as exc:
                # As a gateway answers when its upstream fails: logged like any answer, so a
                # test waiting for every call to be answered is not left waiting.
                reason = f"upstream: {type(exc).__name__} {exc}"
                status, content = 502, json.dumps({"statusCode": 502, "message": reason}).encode()
                out_headers = [(b"content-type", b"application/json")]
            else:
                status, content = response.status_code, response.content
                out_headers = [
                    (k.encode(), v.encode())
                    for k, v in response.headers.items()
                    if k.lower() not in ("content-length", "transfer-encoding", "content-encoding")
                ]
        with self.lock:
            self.log.append(Seen(arrived, scope["method"], scope["path"], key, status))
        await send({"type": "http.response.start", "status": status, "headers": out_headers})
        await send({"type": "http.response.body", "body": content})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.client is not None:
                    await self.client.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return


def test_proxy_forwards_and_injects_in_order(runtime_crm_url: str) -> None:
    proxy = FaultProxy(runtime_crm_url)
    with running(proxy) as url, httpx.Client(base_url=url) as client:
        proxy.fail("k1", (503, {}), (429, {"Retry-After": "2"}))
        headers = {"Idempotency-Key": "run:k1:x"}
        assert client.get("/health", headers=headers).status_code == 503
        second = client.get("/health", headers=headers)
        assert (second.status_code, second.headers["Retry-After"]) == (429, "2")
        assert client.get("/health", headers=headers).status_code != 429
    assert [s.status for s in proxy.seen("k1")][:2] == [503, 429]
