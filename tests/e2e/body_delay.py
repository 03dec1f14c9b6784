"""An ASGI wrapper that holds back requests whose body contains some bytes, then passes them on.

The fault proxy matches calls by their Idempotency-Key, an opaque hash; to make one flow's call
reach the CRM after another flow's (an order the product does not control, so one the tests
may pin), the wrapper in front of it matches on what only that flow's call carries.
"""

from __future__ import annotations

import asyncio
import threading

from starlette.types import ASGIApp, Message, Receive, Scope, Send


class BodyDelay:
    """Delays each request whose body contains `needle` by `delay_s`; the rest pass at once."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._lock = threading.Lock()
        self._needle = b""
        self._delay_s = 0.0

    def delay(self, needle: bytes, delay_s: float) -> None:
        """Hold back requests whose body contains `needle` (set `delay_s` 0 to stop)."""
        with self._lock:
            self._needle, self._delay_s = needle, delay_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self._lock:
            needle, delay_s = self._needle, self._delay_s
        if scope["type"] != "http" or not needle or delay_s <= 0:
            await self.app(scope, receive, send)
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        if needle in body:
            await asyncio.sleep(delay_s)
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if replayed:
                return await receive()
            replayed = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)
