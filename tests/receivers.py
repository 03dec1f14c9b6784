"""A scriptable webhook receiver on a real socket, and a polling helper, for delivery tests."""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.servers import running

T = TypeVar("T")
Answer = int | tuple[int, dict[str, str]] | tuple[int, float]


@dataclass(frozen=True)
class Hit:
    """One request the receiver got."""

    headers: dict[str, str]
    body: bytes

    def json(self) -> dict[str, object]:
        """Return the body as JSON."""
        data: dict[str, object] = json.loads(self.body)
        return data


class Receiver:
    """Records every POST and answers as a test scripts it: each URL has its own script."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hits: dict[str, list[Hit]] = defaultdict(list)
        self._script: dict[str, deque[tuple[int, dict[str, str], float]]] = defaultdict(deque)
        self.base = ""

    def app(self) -> Starlette:
        """Return the ASGI app: `POST /{name}` records and answers."""
        return Starlette(routes=[Route("/{name}", self._handle, methods=["POST"])])

    async def _handle(self, request: Request) -> Response:
        name = request.path_params["name"]
        body = await request.body()
        with self._lock:
            self._hits[name].append(Hit(dict(request.headers), body))
            status, headers, delay_s = (
                self._script[name].popleft() if self._script[name] else (200, {}, 0.0)
            )
        if delay_s:
            await asyncio.sleep(delay_s)
        return Response(b'{"ok":true}', status, headers, media_type="application/json")

    def endpoint(self, *answers: Answer) -> str:
        """Return a fresh URL that answers `answers` in order, then 200 for ever."""
        name = uuid.uuid4().hex
        for answer in answers:
            status, extra = (answer, {}) if isinstance(answer, int) else answer
            headers = extra if isinstance(extra, dict) else {}
            delay = extra if isinstance(extra, float) else 0.0
            self._script[name].append((status, headers, delay))
        return f"{self.base}/{name}"

    def hits(self, url: str) -> list[Hit]:
        """Return what `url` received so far."""
        with self._lock:
            return list(self._hits[url.rsplit("/", 1)[1]])


@contextmanager
def receiving() -> Iterator[Receiver]:
    """Run a receiver for the block."""
    found = Receiver()
    with running(found.app()) as base:
        found.base = base
        yield found


def eventually(check: Callable[[], T | None], timeout_s: float = 20.0) -> T:
    """Return `check()`'s first truthy value; fail if none comes in `timeout_s` (a guard only)."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.01)
