"""A scripted HighLevel for `httpx.MockTransport`, and a clock tests move by hand."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import httpx

from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.oauth import ContactsEndpoints, OAuthApp, TokenSet
from leadwire.connectors.contacts.ratelimits import RateBudget

API = "https://services.example.test"
ENDPOINTS = ContactsEndpoints(api_base_url=API, authorize_page_url=f"{API}/oauth/chooselocation")
APP = OAuthApp(client_id="64f0c0ffee0123456789abcd-k2j4h6g8", client_secret="app-secret-Zq8vL2")
LOCATION = "ve9EPM428h8vShlRW1KT"
START = datetime(2025, 12, 11, 9, 0, tzinfo=UTC)

Handler = Callable[[httpx.Request], httpx.Response]


class FakeClock:
    """A clock that stands still until a test advances it."""

    def __init__(self, start: datetime = START) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def nest_error(status: int, message: str | list[str], **extra: Any) -> httpx.Response:
    """Return a HighLevel (NestJS) shaped error response."""
    body: dict[str, Any] = {"statusCode": status, "message": message, **extra}
    return httpx.Response(status, json=body, headers={"x-trace-id": "trace-1"})


def ok(body: object, status: int = 200, headers: dict[str, str] | None = None) -> Handler:
    """Return a handler answering `body` as JSON."""
    return lambda request: httpx.Response(
        status, content=json.dumps(body).encode(), headers=headers
    )


def budget_headers(burst_remaining: int = 99, daily_remaining: int = 199_999) -> dict[str, str]:
    """Return HighLevel's five rate-limit headers."""
    return {
        "X-RateLimit-Limit-Daily": "200000",
        "X-RateLimit-Daily-Remaining": str(daily_remaining),
        "X-RateLimit-Interval-Milliseconds": "10000",
        "X-RateLimit-Max": "100",
        "X-RateLimit-Remaining": str(burst_remaining),
    }


@dataclass
class FakeHighLevel:
    """Routes requests by (method, path); issues rotating tokens at /oauth/token.

    Access tokens are `access-N`, refresh tokens `refresh-N`. Only the newest access token is
    accepted, and not one in `expired` (expired early, server-side). A used refresh token is
    refused with `invalid_grant`. Set `token_delay_s` to hold refreshes open (races),
    `token_answer` to script the token endpoint.
    """

    clock: FakeClock = field(default_factory=FakeClock)
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    generation: int = 0
    token_delay_s: float = 0.0
    token_answer: Callable[[], httpx.Response] | None = None
    expired: set[str] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tokens(self, expires_in_s: float = 86_399) -> TokenSet:
        """Return the current token pair, as the engine would have stored it."""
        return TokenSet(
            access_token=f"access-{self.generation}",
            access_expires_at=self.clock() + timedelta(seconds=expires_in_s),
            refresh_token=f"refresh-{self.generation}",
            scopes=frozenset({"contacts.readonly", "contacts.write"}),
            location_id=LOCATION,
        )

    def on(self, method: str, path: str, handler: Handler) -> None:
        """Answer `method path` with `handler`."""
        self.routes[(method, path)] = handler

    def api_requests(self) -> list[httpx.Request]:
        """Return the requests other than token requests."""
        return [r for r in self.requests if r.url.path != "/oauth/token"]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: httpx resends the same Request object with new headers after a refresh.
        snapshot = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.read()
        )
        with self.lock:
            self.requests.append(snapshot)
        if request.url.path == "/oauth/token":
            return self._token(request)
        sent = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if sent != f"access-{self.generation}" or sent in self.expired:
            return nest_error(401, "Invalid JWT", error="Unauthorized")
        handler = self.routes.get((request.method, request.url.path))
        if handler is None:
            return nest_error(404, f"no route {request.method} {request.url.path}")
        return handler(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        if (form.get("client_id"), form.get("client_secret")) != (APP.client_id, APP.client_secret):
            return httpx.Response(401, json={"error": "UnAuthorized!"})
        if self.token_delay_s:
            time.sleep(self.token_delay_s)  # widen the window in which a race would show
        with self.lock:
            self.token_forms.append(form)
            if self.token_answer is not None:
                return self.token_answer()
            if form.get("refresh_token") != f"refresh-{self.generation}":
                return httpx.Response(
                    400,
                    json={"error": "invalid_grant", "error_description": "refresh token revoked"},
                )
            self.generation += 1
            return httpx.Response(
                200,
                json={
                    "access_token": f"access-{self.generation}",
                    "token_type": "Bearer",
                    "expires_in": 86_399,
                    "refresh_token": f"refresh-{self.generation}",
                    "scope": "contacts.readonly contacts.write",
                    "userType": "Location",
                    "locationId": LOCATION,
                    "companyId": "C" * 20,
                    "userId": "U" * 20,
                },
            )

    def client(
        self,
        tokens: TokenSet | None = None,
        *,
        on_tokens: Callable[[TokenSet], None] | None = None,
        on_budget: Callable[[RateBudget], None] | None = None,
        refresh_skew_s: float = 300.0,
    ) -> ContactsClient:
        """Return an OAuth client on this fake (default tokens: the current pair)."""
        return ContactsClient.with_oauth(
            tokens or self.tokens(),
            APP,
            on_tokens=on_tokens or (lambda tokens: None),
            on_budget=on_budget,
            refresh_skew_s=refresh_skew_s,
            endpoints=ENDPOINTS,
            transport=httpx.MockTransport(self),
            clock=self.clock,
        )

    def keyed_client(self, **kwargs: Any) -> ContactsClient:
        """Return a client with a static token the fake accepts (the current access token)."""
        return ContactsClient.with_token(
            f"access-{self.generation}",
            LOCATION,
            endpoints=ENDPOINTS,
            transport=httpx.MockTransport(self),
            clock=self.clock,
            **kwargs,
        )


CONTACT = {
    "id": "seD4PfOuKoVMLkEZqohJ",
    "locationId": LOCATION,
    "firstName": "Rosa",
    "email": "rosa@example.com",
    "phone": "+14155550123",
    "tags": ["pinterest"],
    "dateAdded": "2025-12-11T08:59:00.000Z",
    "customFields": [{"id": "f1", "value": ["a", "b"]}],
    "someFieldHighLevelAdded": {"x": 1},
}
