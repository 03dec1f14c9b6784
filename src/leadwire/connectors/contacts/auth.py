"""Bearer auth for the Contacts API: a static token, or OAuth tokens that keep themselves fresh.

`StaticTokenAuth` sends an API key or a private integration token (`pit-…`) as it is.

`HighLevelOAuth` is an `httpx.Auth` flow. Before a request, an access token expiring within
`refresh_skew_s` is refreshed; after a 401 it is refreshed once and the request resent once —
a second 401 is final, so a revoked grant never loops. A 401 that no refresh can cure (a missing
scope, a missing Version header, the wrong user type) is not retried. Refresh tokens rotate on
every refresh: each new pair goes to `on_tokens`, which must persist both, atomically, before
anything else uses them.

A lock makes the requests of one process refresh once: whoever holds it refreshes; the others
wait, then find a token newer than the one they sent. Across processes, pass `hold_tokens`: a
context manager that serialises refreshes (e.g. a row lock) and yields the tokens stored now —
if another process rotated them meanwhile they are adopted instead of refreshing again (using
the retired refresh token would be refused, and revokes the grant on the embedded CRM).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncGenerator, Callable, Generator
from contextlib import AbstractContextManager, nullcontext

import httpx

from leadwire.connectors.contacts.errors import ErrorBody
from leadwire.connectors.contacts.oauth import (
    Clock,
    ContactsEndpoints,
    OAuthApp,
    TokenSet,
    build_token_request,
    read_token_response,
    refresh_form,
    utc_now,
)
from leadwire.connectors.contacts.wire.tokens import GrantType
from leadwire.errors import RetryableError

logger = logging.getLogger(__name__)

TokensCallback = Callable[[TokenSet], None]
TokensHold = Callable[[], AbstractContextManager[TokenSet | None]]
DEFAULT_REFRESH_SKEW_S = 300.0
# Words of 401 messages that a new access token cannot change (contacts-api.md §8).
_NOT_CURABLE = ("scope", "version header", "user type", "authclass")


def _refresh_may_help(response: httpx.Response) -> bool:
    response.read()
    text = ErrorBody(response).text.lower()
    return not any(words in text for words in _NOT_CURABLE)


class StaticTokenAuth(httpx.Auth):
    """`Authorization: Bearer <API key or private integration token>`; it never changes."""

    def __init__(self, token: str) -> None:
        if not token.strip():
            raise ValueError("the token is empty")
        self._header = f"Bearer {token.strip()}"

    def __repr__(self) -> str:
        return "StaticTokenAuth(token=***)"

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign `request`."""
        request.headers["Authorization"] = self._header
        yield request


class HighLevelOAuth(httpx.Auth):
    """OAuth bearer auth, refreshed near expiry and once on a 401, rotations handed on."""

    requires_request_body = True  # a request resent after a refresh needs its body again

    def __init__(
        self,
        tokens: TokenSet,
        app: OAuthApp,
        *,
        on_tokens: TokensCallback,
        endpoints: ContactsEndpoints | None = None,
        hold_tokens: TokensHold | None = None,
        refresh_skew_s: float = DEFAULT_REFRESH_SKEW_S,
        clock: Clock = utc_now,
    ) -> None:
        if refresh_skew_s < 0:
            raise ValueError("refresh_skew_s must not be negative")
        self._tokens = tokens
        self._app = app
        self._on_tokens = on_tokens
        self._endpoints = endpoints or ContactsEndpoints()
        self._hold = hold_tokens
        self._skew_s = refresh_skew_s
        self._clock = clock
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"HighLevelOAuth(app={self._app!r}, tokens={self._tokens!r})"

    @property
    def tokens(self) -> TokenSet:
        """Return the tokens in use now (after any rotation)."""
        return self._tokens

    def sync_auth_flow(
        self, request: httpx.Request
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Sign `request`; refresh near expiry, and once after a 401, resending once."""
        with self._lock:
            if self._tokens.expires_within(self._skew_s, self._clock()):
                yield from self._renew(None, "near_expiry")
            sent = self._tokens.access_token
        request.headers["Authorization"] = f"Bearer {sent}"
        response = yield request
        if response.status_code != 401 or not _refresh_may_help(response):
            return
        with self._lock:
            if self._tokens.access_token == sent:
                yield from self._renew(sent, "unauthorized")
            fresh = self._tokens.access_token
        if fresh == sent:
            return  # nothing new to try: the 401 stands
        request.headers["Authorization"] = f"Bearer {fresh}"
        yield request

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        """Refuse: this auth blocks on a thread lock and does sync I/O."""
        raise RuntimeError("HighLevelOAuth is sync only; use it with httpx.Client")
        yield request  # pragma: no cover - makes this an async generator

    def _renew(
        self, refused: str | None, reason: str
    ) -> Generator[httpx.Request, httpx.Response, None]:
        """Adopt tokens another process stored, else refresh; `refused` is a token sent in vain."""
        with self._hold() if self._hold is not None else nullcontext(None) as stored:
            if stored is not None and self._is_newer(stored, refused):
                self._tokens = stored
                logger.info("contacts.auth.adopted reason=%s", reason)
                return
            if not self._tokens.can_refresh:
                return
            yield from self._refresh(reason, tolerate=refused is None)

    def _is_newer(self, stored: TokenSet, refused: str | None) -> bool:
        if stored.access_token in (self._tokens.access_token, refused):
            return False
        return not stored.expires_within(self._skew_s, self._clock())

    def _refresh(
        self, reason: str, *, tolerate: bool
    ) -> Generator[httpx.Request, httpx.Response, None]:
        now = self._clock()
        previous = self._tokens
        request = build_token_request(self._endpoints, self._app, refresh_form(previous))
        response = yield request
        response.read()
        try:
            tokens = read_token_response(response, GrantType.REFRESH_TOKEN, now, previous)
        except RetryableError:
            # Near expiry the old token still works: use it, and refresh on a later request.
            if tolerate and previous.access_expires_at > self._clock():
                logger.warning("contacts.auth.refresh_deferred reason=%s", reason)
                return
            raise
        # Memory first: if persisting fails, this process still holds the only valid pair.
        self._tokens = tokens
        logger.info(
            "contacts.auth.refreshed reason=%s rotated=%s",
            reason,
            tokens.refresh_token != previous.refresh_token,
        )
        self._on_tokens(tokens)
