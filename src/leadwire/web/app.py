"""Build the engine's web app: the Pinterest receiver and the runs / inbox JSON API.

Routes: `POST /hooks/pinterest/{secret}` (receiver.py, hook_endpoint.py),
`POST /hooks/crm/{secret}` (crm_events.py), `/api/runs`, `/api/health`
(api_runs.py), `/api/inbox` (api_inbox.py) — every `/api/*` route behind the bearer token —
and `GET /healthz`, an unauthenticated liveness probe for load balancers that says nothing
but whether the database answers.

The hook is intake's hot path, so it is not a FastAPI route: `WebApp` sends it to a plain
ASGI endpoint (hook_endpoint.py) and everything else to FastAPI, both behind the gate (trace id,
body limit); see docs/benchmarks.md for what that saves.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.types import Receive, Scope, Send

from leadwire.web import api_inbox, api_runs, crm_events
from leadwire.web.errors import HANDLERS, error_body, trace_id
from leadwire.web.gate import MAX_BODY_BYTES, WebGate
from leadwire.web.hook_endpoint import DeliveryEndpoint, hook_secret
from leadwire.web.receiver import Receiver
from leadwire.web.services import WebServices

log = logging.getLogger(__name__)


def _ping(services: WebServices) -> None:
    with services.store.read_sessions() as session:
        session.execute(text("SELECT 1"))


class WebApp:
    """The gate, then the Pinterest hook's endpoint or else FastAPI (`api`)."""

    def __init__(self, api: FastAPI, hook: DeliveryEndpoint) -> None:
        self.api = api
        self._hook = hook
        self._gated = WebGate(self._dispatch, max_body_bytes=MAX_BODY_BYTES)

    @property
    def state(self) -> State:
        """The FastAPI app's state (services, the CRM event receiver)."""
        return self.api.state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self._gated(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            secret = hook_secret(scope["path"])
            if secret is not None:
                await self._hook(scope, receive, send, secret)
                return
        await self.api(scope, receive, send)


def create_app(services: WebServices) -> WebApp:
    """Return the receiver and JSON API on `services` (the caller opens and closes them)."""
    app = FastAPI(
        title="leadwire engine (receiver and API)",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        exception_handlers=dict(HANDLERS),  # type: ignore[arg-type]
    )
    app.state.services = services
    app.include_router(api_runs.router)
    app.include_router(api_inbox.router)
    app.include_router(crm_events.router)

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        try:
            await run_in_threadpool(_ping, services)
        except Exception as exc:
            log.error("web.unhealthy trace_id=%s reason=%s", trace_id(request), type(exc).__name__)
            body = error_body("unavailable", "the database does not answer", trace_id(request))
            return JSONResponse(body, 503)
        return JSONResponse({"ok": True})

    hook = DeliveryEndpoint(
        Receiver(services.hooks, services.routes, services.group), services.hooks
    )
    return WebApp(app, hook)
