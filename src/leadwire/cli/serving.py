"""Run ASGI apps with uvicorn on the configured host, and stop them cleanly."""

from __future__ import annotations

import uvicorn
from starlette.types import ASGIApp


def serve(app: ASGIApp, host: str, port: int, *, log_level: str = "info") -> None:
    """Serve `app` until interrupted."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level.lower(),
        access_log=False,
        lifespan="on",
        server_header=False,
    )
    uvicorn.Server(config).run()
