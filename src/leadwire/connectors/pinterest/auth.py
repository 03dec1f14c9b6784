"""Bearer auth for Pinterest that keeps its own tokens fresh (an `httpx.Auth` flow).

Before a request, a token expiring within `refresh_skew_s` is refreshed; after a 401 the token is
refreshed once and the request resent once (unless the 401 says a scope is missing, code 3,
which no refresh can fix) — a second 401 is final (the client raises
`PinterestAuthError`), so a revoked grant can never loop. Every rotation is handed to `on_tokens`,
which must persist both tokens (continuous refresh tokens rotate: the old one stops working).

A lock makes concurrent requests of one process refresh once: whoever holds it refreshes, the
others wait and then find a token newer than the one they sent. The flow is sync only, like the
client (the engine calls it from DBOS steps, which are sync functions).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncGenerator, Callable, Generator

import httpx

from leadwire.connectors.pinterest.errors import read_error_body
from leadwire.connectors.pinterest.oauth import (
    Clock,
    OAuthApp,
    PinterestEndpoints,
    TokenSet,
    build_token_request,
    read_token_response,
    refresh_form,
    utc_now,
)
from leadwire.connectors.pinterest.wire.tokens import GrantType

logger = logging.getLogger(__name__)

TokensCallback = Callable[[TokenSet], None]
DEFAULT_REFRESH_SKEW_S = 300.0


_NO_SCOPE_CODE = 3


def _lacks_scope(response: httpx.Response) -> bool:
    """Tell whether a 401 says the token lacks a scope (code 3): a refresh cannot add one."""
    response.read()
    code, _ = read_error_body(response)
    return code == _NO_SCOPE_CODE


class PinterestAuth(httpx.Auth):
    """`Authorization: Bearer`, refreshed near expiry and once on a 401, rotations persisted."""

    requires_request_body = True  # a request resent after a refresh needs its body again

    def __init__(
        self,
        tokens: TokenSet,
        *,
        app: OAuthApp | None = None,
        endpoints: PinterestEndpoints | None = None,
        on_tokens: TokensCallback | None = None,
        refresh_skew_s: float = DEFAULT_REFRESH_SKEW_S,
        clock: Clock = utc_now,
    ) -> None:
        if refresh_skew_s < 0:
            raise ValueError("refresh_skew_s must not be negative")
        self._tokens = tokens
        self._app = app
        self._endpoints = endpoints or PinterestEndpoints()
        self._on_tokens = on_tokens
        self._skew_s = refresh_skew_s
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"PinterestAuth(app={self._app!r}, tokens={self._tokens!r})"

    @property
    def tokens(self) -> TokenSet:
        """Return the tokens in use now (after any rotation)."""
        return self._tokens

    def _can_refresh(self) -> bool:
        return self._app is not None and self._tokens.can_refresh(self._clock())

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign `request`; refresh near expiry, and once after a 401, resending once."""
        request.read()
        with self._lock:
            if self._tokens.expires_within(self._skew_s, self._clock()) and self._can_refresh():
                yield from self._refresh("near_expiry")
            sent = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401 or _lacks_scope(response):
            return
        with self._lock:
            if self._tokens.access_token == sent:
                if not self._can_refresh():
                    return
                yield from self._refresh("unauthorized")
            fresh = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {fresh}"
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Refuse: this auth blocks on a thread lock and does sync I/O."""
        raise RuntimeError("PinterestAuth is sync only; use it with httpx.Client")
        yield request  # pragma: no cover - makes this an async generator

    def _refresh(self, reason: str) -> Generator[httpx.Request, httpx.Response, None]:
        assert self._app is not None
        now = self._clock()
        response = yield build_token_request(self._endpoints, self._app, refresh_form(self._tokens))
        response.read()
        previous = self._tokens
        tokens = read_token_response(response, GrantType.REFRESH_TOKEN, now, previous)
        # Memory first: if persisting fails, this process still holds the only valid refresh token.
        self._tokens = tokens
        logger.info(
            "pinterest.auth.refreshed reason=%s rotated=%s",
            reason,
            tokens.refresh_token != previous.refresh_token,
        )
        if self._on_tokens is not None:
            self._on_tokens(tokens)
