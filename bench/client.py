"""A lean HTTP/1.1 keep-alive client on asyncio streams, for load generation only.

The load generator shares the machine's cores with the server it measures, so every
microsecond it spends is taken from the server: requests are pre-encoded bytes and responses
are parsed just enough to find the status and the end of the body.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any, TypeVar

VERSION = "2021-07-28"

T = TypeVar("T")


def run_loop(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """Run the load generator's coroutine on uvloop when installed (the servers' own
    dependency): a cheaper loop leaves more CPU to the processes under test."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(factory())
    return uvloop.run(factory())


@dataclass(frozen=True)
class Endpoint:
    """Where the server listens and the credential every request carries."""

    host: str
    port: int
    token: str

    def request(
        self,
        method: str,
        path: str,
        body: object | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> bytes:
        """Encode one request, authenticated and versioned as a HighLevel client sends it."""
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        lines = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"Authorization: Bearer {self.token}",
            f"Version: {VERSION}",
            "Accept: application/json",
        ]
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + payload


class ConnectionLostError(Exception):
    """The server closed the connection or sent something that is not HTTP/1.1."""


class Connection:
    """One keep-alive connection; reopened transparently after the server closes it."""

    def __init__(self, host: str, port: int) -> None:
        self.host = host
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def send(self, request: bytes) -> tuple[int, bytes]:
        """Send one request and return the status and body of its response."""
        try:
            return await self._exchange(request)
        except ConnectionLostError:
            self.close()
            raise
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, OSError) as exc:
            self.close()
            raise ConnectionLostError(str(exc) or type(exc).__name__) from exc

    async def _exchange(self, request: bytes) -> tuple[int, bytes]:
        if self._writer is None or self._reader is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        reader, writer = self._reader, self._writer
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 "):
            raise ConnectionLostError(f"not an HTTP/1.1 response: {head[:40]!r}")
        status = int(head[9:12])
        fields = head.lower()
        start = fields.find(b"\r\ncontent-length:")
        if start >= 0:
            end = fields.index(b"\r\n", start + 2)
            body = await reader.readexactly(int(fields[start + 17 : end]))
        elif b"\r\ntransfer-encoding: chunked" in fields:
            body = await self._read_chunks(reader)
        else:
            body = b""
        if b"\r\nconnection: close" in fields:
            self.close()
        return status, body

    @staticmethod
    async def _read_chunks(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await reader.readexactly(size))
            await reader.readexactly(2)

    def close(self) -> None:
        """Close the socket; the next `send` opens a new one."""
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None
