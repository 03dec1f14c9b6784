"""A scripted Pinterest for `httpx.MockTransport`, and a clock tests move by hand."""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import httpx

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.oauth import OAuthApp, PinterestEndpoints, TokenSet

API = "https://api.pinterest.com/v5"
APP = OAuthApp(client_id="1484362", client_secret="app-secret-Zq8vL2")
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


def error(status: int, code: int, message: str, **headers: str) -> httpx.Response:
    """Return a Pinterest-shaped error response."""
    return httpx.Response(status, json={"code": code, "message": message}, headers=headers)


@dataclass
class FakePinterest:
    """Routes requests to handlers by (method, path); issues rotating tokens at /oauth/token.

    Access tokens are `access-N`, refresh tokens `refresh-N`; only the newest access token is
    accepted unless `accept_any_token`. Set `token_delay_s` to hold refreshes open (races).
    """

    clock: FakeClock = field(default_factory=FakeClock)
    routes: dict[tuple[str, str], Handler] = field(default_factory=dict)
    requests: list[httpx.Request] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    generation: int = 0
    accept_any_token: bool = False
    rotate_refresh: bool = True
    token_delay_s: float = 0.0
    token_answer: Callable[[], httpx.Response] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def tokens(self, expires_in_s: float = 3600) -> TokenSet:
        """Return the current token pair, as the engine would have stored it."""
        return TokenSet(
            access_token=f"access-{self.generation}",
            access_expires_at=self.clock() + timedelta(seconds=expires_in_s),
            refresh_token=f"refresh-{self.generation}",
            refresh_expires_at=self.clock() + timedelta(days=60),
            scopes=frozenset({"ads:read", "ads:write"}),
        )

    def on(self, method: str, path: str, handler: Handler) -> None:
        """Answer `method path` (path without the `/v5` prefix) with `handler`."""
        self.routes[(method, path)] = handler

    def api_requests(self) -> list[httpx.Request]:
        """Return the requests other than token requests."""
        return [r for r in self.requests if not r.url.path.endswith("/oauth/token")]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        # A copy: httpx resends the same Request object with new headers after a refresh.
        snapshot = httpx.Request(
            request.method, request.url, headers=request.headers.copy(), content=request.read()
        )
        with self.lock:
            self.requests.append(snapshot)
        path = request.url.path.removeprefix("/v5")
        if path == "/oauth/token":
            return self._token(request)
        if not self.accept_any_token:
            expected = f"Bearer access-{self.generation}"
            if request.headers.get("Authorization") != expected:
                return error(401, 2, "Authentication failed.")
        handler = self.routes.get((request.method, path))
        if handler is None:
            return error(404, 404, f"no route {request.method} {path}")
        return handler(request)

    def _token(self, request: httpx.Request) -> httpx.Response:
        form = {k: v[0] for k, v in parse_qs(request.content.decode()).items()}
        basic = base64.b64encode(f"{APP.client_id}:{APP.client_secret}".encode()).decode()
        if request.headers.get("Authorization") != f"Basic {basic}":
            return error(401, 2, "Authentication failed.")
        if self.token_delay_s:
            time.sleep(self.token_delay_s)  # widen the window in which a race would show
        with self.lock:
            self.token_forms.append(form)
            if self.token_answer is not None:
                return self.token_answer()
            if form.get("grant_type") == "refresh_token" and (
                form.get("refresh_token") != f"refresh-{self.generation}"
            ):
                return error(400, 283, "The authorization grant is invalid")
            self.generation += 1
            body: dict[str, object] = {
                "access_token": f"access-{self.generation}",
                "token_type": "bearer",
                "expires_in": 2_592_000,
                "scope": "ads:read,ads:write",
                "response_type": form.get("grant_type"),
            }
            if self.rotate_refresh and form.get("grant_type") != "client_credentials":
                body["refresh_token"] = f"refresh-{self.generation}"
                body["refresh_token_expires_in"] = 5_184_000
                body["refresh_token_expires_at"] = int(self.clock().timestamp()) + 5_184_000
            return httpx.Response(200, json=body)

    def client(
        self,
        tokens: TokenSet | None = None,
        *,
        on_tokens: Callable[[TokenSet], None] | None = None,
        refresh_skew_s: float = 300.0,
        app: OAuthApp | None = APP,
    ) -> PinterestClient:
        """Return a client on this fake, connected with `tokens` (default: the current pair)."""
        return PinterestClient.connect(
            tokens or self.tokens(),
            app=app,
            on_tokens=on_tokens,
            refresh_skew_s=refresh_skew_s,
            endpoints=PinterestEndpoints(api_base_url=API),
            transport=httpx.MockTransport(self),
            clock=self.clock,
        )


def ok(body: object, status: int = 200) -> Handler:
    """Return a handler answering `body` as JSON."""
    return lambda request: httpx.Response(status, content=json.dumps(body).encode())
