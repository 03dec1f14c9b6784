"""ASGI plumbing the three servers (embedded CRM, Pinterest sandbox, receiver) share."""

from __future__ import annotations

from collections.abc import Callable

from starlette.types import Message, Receive


def limit_body(receive: Receive, limit: int, too_large: Callable[[int], Exception]) -> Receive:
    """Return `receive` raising `too_large(limit)` once the body passes `limit` bytes.

    For bodies without a Content-Length (chunked), which a check of the header cannot catch:
    the request is refused as soon as it is too large, not after all of it was read.
    """
    seen = 0

    async def wrapped() -> Message:
        nonlocal seen
        message = await receive()
        if message["type"] == "http.request":
            seen += len(message.get("body", b""))
            if seen > limit:
                raise too_large(limit)
        return message

    return wrapped
