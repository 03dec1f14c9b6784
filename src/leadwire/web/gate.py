"""The ASGI gate in front of every route: a trace id on each answer, and the body size limit.

The limit holds for declared and chunked bodies alike: a `Content-Length` over it is refused
before a byte is read, and a chunked body is cut off as soon as it grows past it.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadwire.asgi import limit_body
from leadwire.web.errors import error_body

MAX_BODY_BYTES = 1_048_576


class BodyTooLargeError(HTTPException):
    """Raised from `receive` when a chunked body grows past the limit.

    An `HTTPException` because FastAPI turns any other error raised while it reads a body into
    a 400, and the receiver's own reading loop lets it through to the 413 handler.
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large(limit))


def too_large(limit: int) -> str:
    """Say that a body is over the limit."""
    return f"the request body is larger than the limit of {limit} bytes"


class WebGate:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _limited(self, receive: Receive) -> Receive:
        return limit_body(receive, self.max_body_bytes, BodyTooLargeError)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A random version-4 UUID without a system call per request (uuid4 reads os.urandom).
        trace = str(uuid.UUID(int=random.getrandbits(128), version=4))
        state: dict[str, Any] = scope.setdefault("state", {})
        state["trace_id"] = trace
        trace_header = (b"x-trace-id", trace.encode())

        length = _header(scope, b"content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            body = json.dumps(
                error_body("payload_too_large", too_large(self.max_body_bytes), trace)
            ).encode()
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"connection", b"close"),
                trace_header,
            ]
            await send({"type": "http.response.start", "status": 413, "headers": headers})
            await send({"type": "http.response.body", "body": body})
            return

        async def send_traced(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), trace_header]
            await send(message)

        await self.app(
            scope, limit_body(receive, self.max_body_bytes, BodyTooLargeError), send_traced
        )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None
