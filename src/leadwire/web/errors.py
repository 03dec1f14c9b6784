"""The web app's error body `{"error", "detail", "trace_id"}` and the handlers that send it.

`error` is a stable snake_case code a script can branch on; `detail` says what went wrong in a
sentence a person can act on; `trace_id` matches the response's `X-Trace-Id` and the log line.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from leadwire.logs import redact_url

log = logging.getLogger(__name__)

_CODES = {
    400: "bad_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "invalid_parameter",
    500: "internal_error",
    503: "unavailable",
}
_SOURCES = {"query": "query parameter", "path": "path parameter", "body": "body field"}


class ApiError(Exception):
    """An answer other than success: raise it in a request to send its body."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        error: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.error = error or _CODES.get(status, "error")
        self.detail = detail
        self.headers = headers or {}


def trace_id(request: Request) -> str:
    """Return the request's trace id (set by the gate)."""
    value: str = request.scope.get("state", {}).get("trace_id", "")
    return value


def error_body(error: str, detail: str, trace: str) -> dict[str, Any]:
    """Return the JSON body of an error."""
    return {"error": error, "detail": detail, "trace_id": trace}


def respond(request: Request, error: ApiError) -> JSONResponse:
    """Return the response carrying `error`."""
    body = error_body(error.error, error.detail, trace_id(request))
    return JSONResponse(body, error.status, headers=error.headers)


def describe_problems(errors: Sequence[Any]) -> str:
    """Say which parameters are wrong and why, in one sentence."""
    parts: list[str] = []
    for problem in errors:
        loc = [str(p) for p in problem.get("loc", ())]
        message = str(problem.get("msg", "is invalid")).removeprefix("Value error, ")
        if problem.get("type") == "json_invalid":
            return "the body is not valid JSON"
        if len(loc) <= 1:
            part = f"the {loc[0] if loc else 'request'}: {message}"
        else:
            part = f"{_SOURCES.get(loc[0], loc[0])} {'.'.join(loc[1:])!r}: {message}"
        if part not in parts:
            parts.append(part)
    return "; ".join(parts[:5]) or "the request is invalid"


async def on_api_error(request: Request, exc: Exception) -> JSONResponse:
    """Send an `ApiError`."""
    assert isinstance(exc, ApiError)
    return respond(request, exc)


async def on_validation(request: Request, exc: Exception) -> JSONResponse:
    """Send a 422 naming each invalid parameter."""
    assert isinstance(exc, RequestValidationError)
    return respond(request, ApiError(422, describe_problems(exc.errors())))


async def on_http(request: Request, exc: Exception) -> JSONResponse:
    """Send Starlette's own errors (unknown path, wrong method, body too large) in our shape."""
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    if exc.status_code == 404:
        detail = f"no route {request.method} {redact_url(request.url.path)}"
    elif exc.status_code == 405:
        detail = f"{request.method} is not allowed here"
    return respond(request, ApiError(exc.status_code, detail, headers=dict(exc.headers or {})))


def unexpected(trace: str, path: str) -> dict[str, Any]:
    """Log the failure being handled with its trace id; return the 500's body, which names it."""
    log.exception("web.unhandled trace_id=%s path=%s", trace, redact_url(path))
    return error_body(_CODES[500], f"internal error (trace id {trace})", trace)


async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    """Log an unexpected failure with its trace id and send a 500 that names it."""
    return JSONResponse(unexpected(trace_id(request), request.url.path), 500)


HANDLERS = {
    ApiError: on_api_error,
    RequestValidationError: on_validation,
    StarletteHTTPException: on_http,
    Exception: on_unexpected,
}
