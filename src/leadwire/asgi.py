"""ASGI plumbing the three servers (embedded CRM, Pinterest sandbox, receiver) share."""

from __future__ import annotations

from collections.abc import Callable

import uvicorn
from starlette.types import ASGIApp, Message, Receive

# How long a server keeps an idle keep-alive connection open. Longer than any client of ours
# keeps one in its pool (httpx: 5 s by default, our connectors 30 s): a server that closes first
# races the client's next request on that connection, which then fails with a read error and
# has to be retried.
KEEP_ALIVE_S = 75


def server_config(app: ASGIApp, host: str, port: int, *, log_level: str = "info") -> uvicorn.Config:
    """The one uvicorn configuration every leadwire server runs with."""
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        lifespan="on",
        server_header=False,
        timeout_keep_alive=KEEP_ALIVE_S,
    )


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
