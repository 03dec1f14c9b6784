"""Build the Pinterest sandbox's ASGI app: `/v5` API, `/oauth` page, Pinterest-shaped errors.

Every error is `{"code": int, "message": str}`: request validation becomes a 400 with the
operation's code (1 or 400, as its spec example shows) and a message naming the field; an
unknown path is 404, a wrong method 405, and an unexpected failure 500 (`gate.RequestIdGate`) —
which the tests treat as a bug, never an answer.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadwire.sandbox.deliveries import Dispatcher
from leadwire.sandbox.errors import PinterestError
from leadwire.sandbox.gate import RequestIdGate, route_policy
from leadwire.sandbox.keys import load_master_key
from leadwire.sandbox.paging import InvalidParameterError
from leadwire.sandbox.ratelimit import RateLimiter
from leadwire.sandbox.retries import RetryPolicy
from leadwire.sandbox.routes.registry import ROUTERS
from leadwire.sandbox.runtime import SandboxRuntime
from leadwire.sandbox.store import SandboxStore, open_store
from leadwire.settings import Settings

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_048_576
_SOURCES = frozenset({"body", "query", "path", "header", "form"})
MAX_REPORTED_ERRORS = 3


def _respond(error: PinterestError) -> JSONResponse:
    return JSONResponse(error.body(), error.status, headers=error.headers)


def field_name(loc: Sequence[int | str]) -> str:
    """Return the field a pydantic error is about: `[0].questions[2].question_type`."""
    name = ""
    for part in loc:
        if isinstance(part, int):
            name += f"[{part}]"
        elif part not in _SOURCES or name:
            name += f".{part}" if name else part
    return name or "body"


def validation_message(errors: Sequence[Any]) -> str:
    """Return one sentence naming the first few invalid fields and what is wrong with each."""
    parts: list[str] = []
    for error in errors:
        if error.get("type") == "json_invalid":
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            return f"the body is not valid JSON ({reason})."
        message = str(error.get("msg", "is invalid"))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        part = f"{field_name(error.get('loc', ()))}: {message}"
        if part not in parts:
            parts.append(part)
    shown = "; ".join(parts[:MAX_REPORTED_ERRORS])
    more = len(parts) - MAX_REPORTED_ERRORS
    return shown + (f" (and {more} more)" if more > 0 else "") + "."


async def _on_pinterest(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PinterestError)
    return _respond(exc)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    code, message = route_policy(request).bad_request
    return _respond(PinterestError(400, code, f"{message} {validation_message(exc.errors())}"))


async def _on_invalid_parameter(request: Request, exc: Exception) -> JSONResponse:
    code, message = route_policy(request).bad_request
    return _respond(PinterestError(400, code, f"{message} {exc}"))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 404:
        return _respond(PinterestError(404, 404, f"Not found: {request.url.path}"))
    if exc.status_code == 405:
        message = f"Method {request.method} is not allowed on {request.url.path}."
        return _respond(PinterestError(405, 405, message))
    if exc.status_code == 400:
        code, prefix = route_policy(request).bad_request
        return _respond(PinterestError(400, code, f"{prefix} {exc.detail}."))
    return _respond(PinterestError(exc.status_code, exc.status_code, str(exc.detail)))


def _lifespan(
    policy: RetryPolicy | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return the app's lifespan: a dispatcher delivers new leads to webhooks while it runs."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime: SandboxRuntime = app.state.sandbox
        dispatcher = Dispatcher(
            runtime.store,
            runtime.master_key,
            policy=policy or RetryPolicy.from_settings(runtime.settings),
        )
        async with dispatcher:
            app.state.delivery_dispatcher = dispatcher
            yield

    return lifespan


def create_app(
    settings: Settings,
    *,
    store: SandboxStore | None = None,
    delivery_policy: RetryPolicy | None = None,
) -> FastAPI:
    """Return the sandbox app on `store` (default: open the store the settings name).

    `delivery_policy` overrides the retry policy of webhook deliveries (default: settings).
    Mounted inside another app, the sandbox's lifespan does not run by itself: the host app
    must enter `app.router.lifespan_context(app)` or no lead is ever delivered.
    """
    store = store or open_store(settings)
    runtime = SandboxRuntime(
        settings=settings,
        store=store,
        limiter=RateLimiter(
            {
                "ads_read": settings.sandbox_rate_read_per_min,
                "ads_analytics": settings.sandbox_rate_read_per_min,
                "ads_write": settings.sandbox_rate_write_per_min,
            }
        ),
        master_key=load_master_key(settings),
        public_url=settings.sandbox_public_url,
    )
    app = FastAPI(
        title="leadwire Pinterest sandbox (API v5, lead ads)",
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        redirect_slashes=False,
        lifespan=_lifespan(delivery_policy),
        exception_handlers={
            PinterestError: _on_pinterest,
            RequestValidationError: _on_validation,
            InvalidParameterError: _on_invalid_parameter,
            StarletteHTTPException: _on_http,
        },
    )
    app.state.sandbox = runtime
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(RequestIdGate, max_body_bytes=MAX_BODY_BYTES)
    return app
