"""Several ASGI apps served by one process, on one event loop, stopped together.

uvicorn's own signal handling stops only the server that installed it last; here one handler
stops them all, so Ctrl+C (or SIGTERM) ends `leadwire up` cleanly: servers first (no new
requests), then the engine lets running steps finish.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass

import uvicorn
from starlette.types import ASGIApp

from leadwire.asgi import server_config


class _Server(uvicorn.Server):
    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        # Signals are handled once for all servers by `serve_all`.
        yield


@dataclass(frozen=True)
class Site:
    """An app and where it listens."""

    name: str
    app: ASGIApp
    host: str
    port: int


async def serve_all(
    sites: Sequence[Site],
    *,
    log_level: str = "info",
    on_started: Callable[[], object] | None = None,
    stop: asyncio.Event | None = None,
) -> None:
    """Serve every site until SIGINT/SIGTERM (or `stop`); run `on_started` in a thread once all
    listen (a failure there stops everything and is raised)."""
    servers = [
        _Server(server_config(site.app, site.host, site.port, log_level=log_level))
        for site in sites
    ]
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    tasks = [asyncio.create_task(server.serve()) for server in servers]
    failure: BaseException | None = None
    try:
        while not all(server.started for server in servers):
            if any(task.done() for task in tasks):  # a port taken, a lifespan failed
                stop.set()
                break
            await asyncio.sleep(0.02)
        if not stop.is_set() and on_started is not None:
            try:
                await asyncio.to_thread(on_started)
            except BaseException as exc:  # reported after the servers stopped
                failure = exc
                stop.set()
        await stop.wait()
    finally:
        for server in servers:
            server.should_exit = True
        await asyncio.gather(*tasks, return_exceptions=True)
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    if failure is not None:
        raise failure
    for site, server, task in zip(sites, servers, tasks, strict=True):
        if not server.started:
            error = task.exception() if task.done() and not task.cancelled() else None
            raise RuntimeError(f"the {site.name} server on port {site.port} did not start") from (
                error
            )
