"""A Pinterest connection put to work: its token callbacks, its refresher, a client, a probe.

`open_pinterest_client` refreshes near expiry through `refresh_tokens` (one worker at a time),
and hands the client an `on_tokens` that saves any rotation the client makes itself (after a
401), so no rotated refresh token is ever lost.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx

from leadwire.connectors.pinterest.auth import DEFAULT_REFRESH_SKEW_S, TokensCallback
from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.errors import error_for_transport
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
from leadwire.engine.connections.model import Credentials, PinterestConfig
from leadwire.engine.connections.records import load_credentials
from leadwire.engine.connections.tokens import (
    Refresher,
    TokenPair,
    Tokens,
    refresh_tokens,
    token_saver,
)
from leadwire.engine.secrets import KeyRing
from leadwire.errors import AuthError, BadRequestError
from leadwire.store.app import AppStore

_FAR_FUTURE = datetime.max.replace(tzinfo=UTC)


def from_pinterest(tokens: TokenSet) -> Tokens:
    """Return Pinterest's `TokenSet` as the engine's `Tokens`."""
    return Tokens(
        access_token=tokens.access_token,
        refresh_token=tokens.refresh_token,
        access_expires_at=tokens.access_expires_at,
        refresh_expires_at=tokens.refresh_expires_at,
        scopes=tokens.scopes or None,
    )


def to_pinterest(tokens: TokenPair) -> TokenSet:
    """Return any token pair as Pinterest's `TokenSet` (no expiry: treated as far away)."""
    stored = tokens if isinstance(tokens, Tokens) else None
    return TokenSet(
        access_token=tokens.access_token,
        access_expires_at=tokens.access_expires_at or _FAR_FUTURE,
        refresh_token=tokens.refresh_token,
        refresh_expires_at=stored.refresh_expires_at if stored else None,
        scopes=(stored.scopes if stored else None) or frozenset(),
    )


def pinterest_token_saver(store: AppStore, ring: KeyRing, connection_id: str) -> TokensCallback:
    """Return the `on_tokens(TokenSet)` that `PinterestAuth` calls on every rotation."""
    save = token_saver(store, ring, connection_id)

    def on_tokens(tokens: TokenSet) -> None:
        save(tokens)  # Pinterest's TokenSet is a TokenPair as it is

    return on_tokens


def pinterest_refresher(
    http: httpx.Client, endpoints: PinterestEndpoints, app: OAuthApp, *, clock: Clock = utc_now
) -> Refresher:
    """Return a refresher that trades the refresh token at Pinterest's `/oauth/token`."""

    def refresh(current: Tokens) -> Tokens:
        previous = to_pinterest(current)
        request = build_token_request(endpoints, app, refresh_form(previous))
        now = clock()
        try:
            response = http.send(request, auth=None)
        except httpx.TransportError as exc:
            raise error_for_transport(exc, "pinterest.oauth.refresh_token") from None
        response.read()
        return from_pinterest(read_token_response(response, GrantType.REFRESH_TOKEN, now, previous))

    return refresh


def _app(credentials: Credentials, config: PinterestConfig) -> OAuthApp | None:
    secret = credentials.secrets.client_secret
    if config.client_id is None or secret is None:
        return None
    return OAuthApp(config.client_id, secret)


def _config(credentials: Credentials) -> PinterestConfig:
    config = credentials.connection.config
    if not isinstance(config, PinterestConfig):
        raise BadRequestError(f"connection {credentials.connection.name!r} is not Pinterest")
    return config


def open_pinterest_client(
    store: AppStore,
    ring: KeyRing,
    ref: str,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Clock = utc_now,
    refresh_skew_s: float = DEFAULT_REFRESH_SKEW_S,
) -> PinterestClient:
    """Return a client acting with connection `ref`'s tokens, refreshed first if near expiry."""
    credentials = load_credentials(store, ring, ref)
    config = _config(credentials)
    connection_id = credentials.connection.id
    if credentials.secrets.access_token is None:
        raise AuthError(f"connection {credentials.connection.name!r} holds no access token")
    app = _app(credentials, config)
    endpoints = config.endpoints()
    tokens = Tokens(
        access_token=credentials.secrets.access_token,
        refresh_token=credentials.secrets.refresh_token,
        access_expires_at=credentials.connection.access_expires_at,
        refresh_expires_at=credentials.connection.refresh_expires_at,
    )
    if app is not None and tokens.refresh_token and tokens.expires_within(refresh_skew_s, clock()):
        with PinterestClient(None, endpoints=endpoints, transport=transport, clock=clock) as bare:
            refresher = pinterest_refresher(bare.session.http, endpoints, app, clock=clock)
            tokens = refresh_tokens(
                store, connection_id, refresher, ring=ring, skew_s=refresh_skew_s, clock=clock
            )
    return PinterestClient.connect(
        to_pinterest(tokens),
        app=app,
        on_tokens=pinterest_token_saver(store, ring, connection_id),
        endpoints=endpoints,
        refresh_skew_s=refresh_skew_s,
        transport=transport,
        clock=clock,
    )


def probe_pinterest(
    store: AppStore,
    ring: KeyRing,
    ref: str,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> str:
    """Call `GET /v5/ad_accounts/{id}` once; return what answered, or raise its error."""
    credentials = load_credentials(store, ring, ref)
    account_id = _config(credentials).ad_account_id
    with open_pinterest_client(store, ring, ref, transport=transport, clock=clock) as client:
        account = client.ads.fetch_ad_account(account_id)
    return f"ad account {account.id}" + (f" ({account.name})" if account.name else "")
