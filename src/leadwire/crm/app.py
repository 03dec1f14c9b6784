"""Build the embedded CRM's ASGI app: gate, error handlers, routes, published OpenAPI."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from anyio import to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadwire.crm.auth.principal import PrincipalResolver
from leadwire.crm.errors import CrmError
from leadwire.crm.gate import ApiGate
from leadwire.crm.ratelimit import RateLimiter
from leadwire.crm.routes.registry import ROUTERS
from leadwire.crm.runtime import CrmRuntime
from leadwire.crm.store import CrmStore, open_store
from leadwire.crm.webhooks.dispatcher import Dispatcher
from leadwire.crm.webhooks.retries import RetryPolicy
from leadwire.crm.webhooks.signing import load_or_create_keys
from leadwire.crm.wire.validation import to_crm_error
from leadwire.settings import Settings

log = logging.getLogger(__name__)


def _trace(request: Request) -> str:
    value: str = request.scope.get("state", {}).get("trace_id", "")
    return value


def _error_response(request: Request, error: CrmError) -> JSONResponse:
    return JSONResponse(error.body(_trace(request)), error.status, headers=error.headers)


async def _on_crm_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, CrmError)
    return _error_response(request, exc)


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return _error_response(request, to_crm_error(exc.errors()))


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    message: Any = exc.detail
    if exc.status_code == 404:
        message = f"Cannot {request.method} {request.url.path}"
    return _error_response(request, CrmError(exc.status_code, str(message)))


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    trace = _trace(request)
    log.exception("crm.unhandled trace_id=%s path=%s", trace, request.url.path)
    return _error_response(request, CrmError(500, f"Internal server error (traceId {trace})"))


def _lifespan(
    policy: RetryPolicy | None,
) -> Callable[[FastAPI], AbstractAsyncContextManager[None]]:
    """Return the app's lifespan: load (first time: create) the signing keys, run a dispatcher."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        runtime: CrmRuntime = app.state.crm
        # Sync handlers (writes, lists) run in this pool. Writers take turns on one lock anyway,
        # and every extra thread costs memory and GIL hand-offs (measured in docs/benchmarks.md).
        to_thread.current_default_thread_limiter().total_tokens = runtime.settings.crm_threads
        keys = await asyncio.to_thread(load_or_create_keys, runtime.settings.data_dir)
        app.state.webhook_keys = keys
        dispatcher = Dispatcher(
            runtime.store, keys, policy=policy or RetryPolicy.from_settings(runtime.settings)
        )
        async with dispatcher:
            app.state.webhook_dispatcher = dispatcher
            yield

    return lifespan


def create_app(
    settings: Settings,
    *,
    store: CrmStore | None = None,
    webhook_policy: RetryPolicy | None = None,
) -> FastAPI:
    """Return the CRM app on `store` (default: open the store the settings name).

    `webhook_policy` overrides the retry policy of event webhooks (default: from settings).
    """
    store = store or open_store(settings)
    runtime = CrmRuntime(
        settings=settings,
        store=store,
        resolver=PrincipalResolver(store.read_sessions),
        limiter=RateLimiter(
            burst=settings.crm_rate_burst,
            interval_ms=settings.crm_rate_interval_ms,
            daily=settings.crm_rate_daily,
        ),
    )
    app = FastAPI(
        title="leadwire embedded CRM (HighLevel Contacts API v2)",
        openapi_url=None,
        redirect_slashes=False,
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(webhook_policy),
        exception_handlers={
            CrmError: _on_crm_error,
            RequestValidationError: _on_validation,
            StarletteHTTPException: _on_http,
            Exception: _on_unexpected,
        },
    )
    app.state.crm = runtime
    for router in ROUTERS:
        app.include_router(router)
    app.add_middleware(
        ApiGate,
        resolver=runtime.resolver,
        limiter=runtime.limiter,
        max_body_bytes=settings.crm_max_body_bytes,
    )
    return app
