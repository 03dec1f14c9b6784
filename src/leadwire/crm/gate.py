"""The ASGI gate in front of the Contacts API: trace id, body limit, Version, auth, rate limit.

It runs before routing so that every answer under `/contacts` — success, 4xx or 5xx — carries
the rate-limit headers and a trace id, and so that a refused request never reaches a handler.
"""

from __future__ import annotations

import json
import random
import uuid
from typing import Any

from anyio import to_thread
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from leadwire.asgi import limit_body
from leadwire.crm.auth.principal import Principal, PrincipalResolver
from leadwire.crm.errors import CrmError
from leadwire.crm.ratelimit import RateDecision, RateLimiter

SUPPORTED_VERSIONS = frozenset({"2021-07-28"})
API_PREFIX = "/contacts"


class BodyTooLargeError(HTTPException):
    """Raised from `receive` when a chunked body grows past the limit.

    An `HTTPException` because FastAPI turns any other error raised while it reads a body into
    a 400 "There was an error parsing the body".
    """

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"Request body is larger than the limit of {limit} bytes")


class ApiGate:
    """Pure ASGI middleware; see the module docstring."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        resolver: PrincipalResolver,
        limiter: RateLimiter,
        max_body_bytes: int,
    ) -> None:
        self.app = app
        self.resolver = resolver
        self.limiter = limiter
        self.max_body_bytes = max_body_bytes

    def _limited(self, receive: Receive) -> Receive:
        return limit_body(receive, self.max_body_bytes, BodyTooLargeError)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # A random version-4 UUID without a system call per request (uuid4 reads os.urandom).
        trace_id = str(uuid.UUID(int=random.getrandbits(128), version=4))
        state: dict[str, Any] = scope.setdefault("state", {})
        state["trace_id"] = trace_id
        headers = _headers(scope)
        extra = [(b"x-trace-id", trace_id.encode())]

        refusal: CrmError | None = None
        if scope["path"].startswith(API_PREFIX):
            # Counted before the size check so that a 413 carries the rate-limit headers too.
            refusal, decision = await self._admit(headers, scope, state)
            if decision is not None:
                extra += [(k.lower().encode(), v.encode()) for k, v in decision.headers().items()]

        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await _send_error(send, CrmError(413, self._too_large()), trace_id, extra)
            return
        if refusal is not None:
            await _send_error(send, refusal, trace_id, extra)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + extra
            await send(message)

        await self.app(
            scope, limit_body(receive, self.max_body_bytes, BodyTooLargeError), send_with_headers
        )

    async def _admit(
        self, headers: dict[str, str], scope: Scope, state: dict[str, Any]
    ) -> tuple[CrmError | None, RateDecision | None]:
        version = headers.get("version")
        auth = headers.get("authorization", "")
        principal: Principal | str
        if not auth:
            principal = "Missing Authorization header: send `Authorization: Bearer <token>`"
        elif auth[:7].lower() != "bearer " or not auth[7:].strip():
            principal = "Invalid Authorization header: expected `Bearer <token>`"
        else:
            token = auth[7:].strip()
            found = self.resolver.cached(token)
            # A miss asks the database: in a thread, so the loop never waits on a connection
            # (with the pool exhausted, it would wait for sessions only the loop can close).
            principal = (
                found
                if found is not None
                else await to_thread.run_sync(self.resolver.resolve, token)
            )
        if isinstance(principal, Principal):
            bucket = f"{principal.bucket}|{principal.location_id}"
            state["principal"] = principal
        else:
            client = scope.get("client") or ("unknown", 0)
            bucket = f"ip:{client[0]}"
        decision = self.limiter.hit(bucket)
        if not decision.allowed:
            error = CrmError(
                429,
                f"Too Many Requests: rate limit exceeded; retry after {decision.retry_after_s} s",
                headers={"Retry-After": str(decision.retry_after_s)},
            )
            return error, decision
        if version is None:
            return CrmError(401, "version header was not found."), decision
        if version not in SUPPORTED_VERSIONS:
            return (
                CrmError(
                    400,
                    f"Invalid API version segment {version!r}: this API supports "
                    f"Version: {', '.join(sorted(SUPPORTED_VERSIONS))}",
                ),
                decision,
            )
        if isinstance(principal, str):
            return CrmError(401, principal), decision
        return _check_request_shape(headers, scope), decision

    def _too_large(self) -> str:
        return f"Request body is larger than the limit of {self.max_body_bytes} bytes"


def _check_request_shape(headers: dict[str, str], scope: Scope) -> CrmError | None:
    """Refuse what no handler could store: NUL characters (PostgreSQL cannot), non-JSON bodies."""
    if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):
        return CrmError(400, "The path and query parameters must not contain NUL characters")
    has_body = headers.get("content-length", "0") not in ("", "0") or (
        "transfer-encoding" in headers
    )
    if has_body:
        media = headers.get("content-type", "").split(";")[0].strip().lower()
        if media != "application/json" and not media.endswith("+json"):
            return CrmError(415, f"Content-Type must be application/json, not {media or 'missing'}")
    return None


def _headers(scope: Scope) -> dict[str, str]:
    return {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}


async def _send_error(
    send: Send, error: CrmError, trace_id: str, extra: list[tuple[bytes, bytes]]
) -> None:
    body = json.dumps(error.body(trace_id)).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        *extra,
        *[(k.lower().encode(), v.encode()) for k, v in error.headers.items()],
    ]
    await send({"type": "http.response.start", "status": error.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
