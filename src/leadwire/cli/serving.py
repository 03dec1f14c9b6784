"""Run ASGI apps with uvicorn on the configured host, and stop them cleanly."""

from __future__ import annotations

import ctypes

import uvicorn
from starlette.types import ASGIApp

from leadwire.asgi import server_config


def limit_malloc_arenas(arenas: int = 2) -> None:
    """Cap glibc's malloc arenas before any thread starts.

    glibc gives each busy thread an arena of its own; with a pool of worker threads that is
    tens of megabytes of resident memory for no speed a GIL-bound server can use. (The same
    as `MALLOC_ARENA_MAX=2`; a no-op where the C library is not glibc.)
    """
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    m_arena_max = -8  # <malloc.h>
    libc.mallopt(m_arena_max, arenas)


def serve(app: ASGIApp, host: str, port: int, *, log_level: str = "info") -> None:
    """Serve `app` until interrupted."""
    limit_malloc_arenas()
    uvicorn.Server(server_config(app, host, port, log_level=log_level)).run()
