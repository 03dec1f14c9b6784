"""What runs before a sandbox handler: request id, body limit, token, rate limit, scope.

Each route declares its operation exactly as the spec does — `security` alternatives and
`x-ratelimit-category` — in `openapi_extra` (see `operation`). `PinterestRoute` enforces that
declaration after routing but before FastAPI parses the body, so a refused request never reaches
validation or the handler, and an unknown path is a plain 404.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException, Request, Response
from fastapi.routing import APIRoute
from starlette.concurrency import run_in_threadpool
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadwire.asgi import limit_body
from leadwire.sandbox import oauth
from leadwire.sandbox.errors import PinterestError, auth_failed, missing_scope, rate_limited
from leadwire.sandbox.oauth import Caller
from leadwire.sandbox.runtime import SandboxRuntime

log = logging.getLogger(__name__)

USER = "pinterest_oauth2"
CLIENT = "client_credentials"
INTERNAL_ERROR = "Internal error of the sandbox."


@dataclass(frozen=True, slots=True)
class Policy:
    """An operation's security alternatives, rate category and 400 answer (code, message)."""

    security: tuple[tuple[str, tuple[str, ...]], ...]
    category: str | None
    bad_request: tuple[int, str]

    @classmethod
    def of(cls, extra: dict[str, Any] | None) -> Policy:
        """Read a policy back from a route's `openapi_extra`."""
        extra = extra or {}
        security = tuple(
            (scheme, tuple(scopes))
            for alternative in extra.get("security", [])
            for scheme, scopes in alternative.items()
        )
        bad = extra.get("x-bad-request") or {"code": 1, "message": "Invalid parameters."}
        return cls(security, extra.get("x-ratelimit-category"), (bad["code"], bad["message"]))


def operation(
    scope: str,
    category: str,
    *,
    client_ok: bool = False,
    bad_code: int = 1,
    bad_message: str = "Invalid parameters.",
) -> dict[str, Any]:
    """Return a route's `openapi_extra`, spelled as the spec spells the operation."""
    security: list[dict[str, list[str]]] = [{USER: [scope]}]
    if client_ok:
        security.append({CLIENT: [scope]})
    return {
        "security": security,
        "x-ratelimit-category": category,
        "x-bad-request": {"code": bad_code, "message": bad_message},
    }


def route_policy(request: Request) -> Policy:
    """Return the policy of the route that matched `request` (a default one if none did)."""
    route = request.scope.get("route")
    if isinstance(route, PinterestRoute):
        return route.policy
    return Policy((), None, (1, "Invalid parameters."))


class PinterestRoute(APIRoute):
    """An API route that authenticates, rate-limits and checks scopes before its handler."""

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        # Set first: the base class builds the handler (which reads it) inside __init__.
        self.policy = Policy.of(kwargs.get("openapi_extra"))
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        policy = self.policy
        if not policy.security:
            return handler

        async def guarded(request: Request) -> Response:
            runtime: SandboxRuntime = request.app.state.sandbox
            header = request.headers.get("authorization", "")
            caller = await run_in_threadpool(_caller, runtime, header)
            request.state.caller = caller
            _admit(runtime, caller, policy)
            return await handler(request)

        return guarded


def _caller(runtime: SandboxRuntime, header: str) -> Caller:
    if header[:7].lower() != "bearer " or not header[7:].strip():
        raise auth_failed()
    with runtime.store.read_sessions() as session:
        return oauth.resolve(session, header[7:].strip())


def _admit(runtime: SandboxRuntime, caller: Caller, policy: Policy) -> None:
    if policy.category is not None:
        decision = runtime.limiter.hit(f"{caller.app_id}|{caller.user_id}", policy.category)
        if not decision.allowed:
            raise rate_limited(decision.reset_s)
    scheme = CLIENT if caller.is_client else USER
    alternatives = [scopes for name, scopes in policy.security if name == scheme]
    if not alternatives:
        raise PinterestError(
            401, 3, "This operation does not accept client_credentials tokens; use a user token."
        )
    if not any(all(s in caller.scopes for s in scopes) for scopes in alternatives):
        raise missing_scope(" or ".join(",".join(scopes) for scopes in alternatives))


class BodyTooLargeError(HTTPException):
    """Raised from `receive` when a chunked body grows past the limit.

    An HTTPException, because FastAPI turns any other error met while reading a body into
    "400 There was an error parsing the body".
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, too_large_message(limit))


class RequestIdGate:
    """Pure ASGI middleware: an `x-pinterest-rid` on every response, a request body limit, and
    a `{code, message}` 500 (with its request id) for anything a handler did not expect."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    def _limited(self, receive: Receive) -> Receive:
        return limit_body(receive, self.max_body_bytes, BodyTooLargeError)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = uuid.uuid4().hex
        started = False

        async def send_with_rid(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-pinterest-rid", rid.encode()),
                ]
            await send(message)

        for name, value in scope["headers"]:
            if name == b"content-length" and (
                not value.isdigit() or int(value) > self.max_body_bytes
            ):
                error = PinterestError(413, 413, too_large_message(self.max_body_bytes))
                await _send_error(send_with_rid, error)
                return
        try:
            await self.app(
                scope, limit_body(receive, self.max_body_bytes, BodyTooLargeError), send_with_rid
            )
        except Exception:
            if started:
                raise
            log.exception("sandbox.unhandled rid=%s path=%s", rid, scope.get("path"))
            await _send_error(send_with_rid, PinterestError(500, 500, INTERNAL_ERROR))


async def _send_error(send: Send, error: PinterestError) -> None:
    data = json.dumps(error.body()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": error.status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(data)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": data})


def too_large_message(limit: int) -> str:
    """Return the 413 message."""
    return f"Request body is larger than the limit of {limit} bytes."
