"""A counting HTTP/1.1 pass-through between the worker and the CRM: when, and what status.

The rate-budget run needs every request the engine made and every 429 it got, including
attempts the run timeline later overwrites; this proxy sees each one. It forwards bytes as
they are (rate-limit headers included, so the engine learns what it would from the CRM), one
upstream keep-alive connection per client connection, in a thread of the bench process.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field

from bench.server import HOST

# The request line of the CRM's bulk tag update.
BULK_TAGS = b"POST /contacts/bulk/tags/update/add "


@dataclass
class Seen:
    """The answers the proxy forwarded: (epoch seconds, status) in order; and those of them
    that answered a bulk tag update."""

    answers: list[tuple[float, int]] = field(default_factory=list)
    bulk: list[tuple[float, int]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, status: int, *, bulk: bool = False) -> None:
        """Record one answer now."""
        with self.lock:
            self.answers.append((time.time(), status))
            if bulk:
                self.bulk.append(self.answers[-1])

    def snapshot(self) -> list[tuple[float, int]]:
        """Return a copy of what was seen so far."""
        with self.lock:
            return list(self.answers)

    def bulk_snapshot(self) -> list[tuple[float, int]]:
        """Return a copy of the bulk tag updates' answers so far."""
        with self.lock:
            return list(self.bulk)


def _length(head: bytes) -> int:
    fields = head.lower()
    start = fields.find(b"\r\ncontent-length:")
    if start < 0:
        return -1 if b"\r\ntransfer-encoding: chunked" in fields else 0
    end = fields.index(b"\r\n", start + 2)
    return int(fields[start + 17 : end])


async def _message(reader: asyncio.StreamReader) -> tuple[bytes, bytes]:
    """Read one HTTP message: its head, and the raw bytes of its body (chunked kept as is)."""
    head = await reader.readuntil(b"\r\n\r\n")
    size = _length(head)
    if size >= 0:
        return head, await reader.readexactly(size)
    parts: list[bytes] = []
    while True:
        line = await reader.readuntil(b"\r\n")
        parts.append(line)
        chunk = int(line.split(b";")[0], 16)
        parts.append(await reader.readexactly(chunk + 2))
        if chunk == 0:
            return head, b"".join(parts)


async def _relay(
    client_r: asyncio.StreamReader,
    client_w: asyncio.StreamWriter,
    upstream_port: int,
    seen: Seen,
) -> None:
    up_r, up_w = await asyncio.open_connection(HOST, upstream_port)
    try:
        while True:
            try:
                head, body = await _message(client_r)
            except (asyncio.IncompleteReadError, ConnectionError):
                return
            up_w.write(head + body)
            answer_head, answer_body = await _message(up_r)
            seen.add(int(answer_head[9:12]), bulk=head.startswith(BULK_TAGS))
            client_w.write(answer_head + answer_body)
            await client_w.drain()
    finally:
        up_w.close()
        client_w.close()


@contextmanager
def counting_proxy(upstream_port: int, port: int) -> Iterator[Seen]:
    """Listen on `port`, forward to `upstream_port`, count answers; stop on exit."""
    seen = Seen()
    loop = asyncio.new_event_loop()
    started = threading.Event()
    stop: asyncio.Event | None = None

    async def serve() -> None:
        nonlocal stop
        stop = asyncio.Event()

        async def handle(r: asyncio.StreamReader, w: asyncio.StreamWriter) -> None:
            with suppress(ConnectionError, asyncio.IncompleteReadError):
                await _relay(r, w, upstream_port, seen)

        server = await asyncio.start_server(handle, HOST, port)
        started.set()
        async with server:
            await stop.wait()

    thread = threading.Thread(target=loop.run_until_complete, args=(serve(),), daemon=True)
    thread.start()
    if not started.wait(10):
        raise RuntimeError("the counting proxy did not start")
    try:
        yield seen
    finally:
        assert stop is not None
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()
