"""Real servers on real sockets for tests: uvicorn in a thread on an ephemeral port."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

from leadwire.asgi import server_config


def bound_socket(host: str = "127.0.0.1") -> socket.socket:
    """Return a socket bound to a free port: its URL is known before anything serves on it."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, 0))
    return sock


@contextmanager
def running(
    app: ASGIApp, host: str = "127.0.0.1", *, sock: socket.socket | None = None
) -> Iterator[str]:
    """Serve `app` on a free port (or on `sock`) for the duration of the block; yield its URL."""
    sock = sock or bound_socket(host)
    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(server_config(app, host, port, log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("test server did not start")
        time.sleep(0.01)
    try:
        yield f"http://{host}:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
