"""The hook's endpoint: `POST /hooks/pinterest/{secret}` as a plain ASGI function, behind the gate.

Intake's hot path skips the web framework: measured on the bench, FastAPI's and Starlette's
layers (exception middlewares, routing, request and response objects, the hand-off to a worker
thread) cost more CPU per delivery than the receiver's own work. `app.WebApp` sends the hook's
requests here and everything else to FastAPI; the answers, bodies and headers are those a route
would send (405 naming the method, 413 past the body limit, 500 naming the trace id).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from leadwire.engine.sources import HOOK_PATH
from leadwire.web.errors import error_body, unexpected
from leadwire.web.gate import BodyTooLargeError
from leadwire.web.hook_cache import HookDirectory
from leadwire.web.receiver import Pending, Receiver, Verdict

_HOOK_PREFIX = HOOK_PATH.removesuffix("{secret}")
assert _HOOK_PREFIX + "{secret}" == HOOK_PATH


def hook_secret(path: str) -> str | None:
    """Return the secret if `path` is a hook's URL (as the route `HOOK_PATH` matches), else None."""
    if not path.startswith(_HOOK_PREFIX):
        return None
    secret = path[len(_HOOK_PREFIX) :]
    return secret if secret and "/" not in secret else None


class DeliveryEndpoint:
    """Answers the requests to a hook's URL (see the module docstring)."""

    def __init__(self, receiver: Receiver, hooks: HookDirectory) -> None:
        self._receiver = receiver
        self._hooks = hooks

    async def __call__(self, scope: Scope, receive: Receive, send: Send, secret: str) -> None:
        """Answer one request to the hook of `secret`."""
        trace: str = scope.get("state", {}).get("trace_id", "")
        method = scope["method"]
        if method != "POST":
            body = error_body("method_not_allowed", f"{method} is not allowed here", trace)
            await send_json(send, 405, body, {"allow": "POST"})
            return
        try:
            delivery = await read_body(receive)
        except BodyTooLargeError as exc:  # cut off by the gate while it streamed in
            await send_json(send, 413, error_body("payload_too_large", str(exc.detail), trace))
            return
        if delivery is None:
            return  # the client went away before sending it all
        try:
            verdict = await self._answer(secret, delivery, trace)
        except Exception:
            await send_json(send, 500, unexpected(trace, scope["path"]))
            return
        await send_json(send, verdict.status, verdict.body, verdict.headers)
        if verdict.hook_id is not None and self._hooks.is_touch_due(verdict.hook_id):
            # After the answer went out, as a route's background task.
            await run_in_threadpool(self._hooks.touch, verdict.hook_id)

    async def _answer(self, secret: str, delivery: bytes, trace: str) -> Verdict:
        receiver = self._receiver
        step = receiver.start(secret, delivery, trace, cached_only=True)
        if step is None:  # a cache to fill: that reads the database, so not on the loop
            step = await run_in_threadpool(receiver.start, secret, delivery, trace)
        if not isinstance(step, Pending):
            assert step is not None
            return step
        try:
            report = await asyncio.wrap_future(step.committed)
        except Exception as exc:
            return receiver.finish(step, exc)
        return receiver.finish(step, report)


async def read_body(receive: Receive) -> bytes | None:
    """Return the request's body, or None if the client disconnected first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


async def send_json(
    send: Send, status: int, body: dict[str, Any], headers: Mapping[str, str] | None = None
) -> None:
    """Send `body` as JSON (encoded as a FastAPI `JSONResponse` would) with `headers`."""
    content = json.dumps(
        body, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode()
    raw = [
        (b"content-length", str(len(content)).encode()),
        (b"content-type", b"application/json"),
        *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": content})
