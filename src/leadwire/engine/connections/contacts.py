"""A contacts (CRM) connection put to work: its bearer token, an OAuth refresher, a probe.

Until the contacts connector lands, the probe and the refresher speak HTTP here, minimally:
`GET /contacts/?locationId=…&limit=1` and `POST /oauth/token` (form, client credentials in the
body, as the reference's token endpoint takes them). Errors are classified like a connector's.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, timedelta

import httpx

from leadwire.engine.connections.model import ContactsAuth, ContactsConfig, Credentials
from leadwire.engine.connections.records import load_credentials
from leadwire.engine.connections.tokens import (
    DEFAULT_REFRESH_SKEW_S,
    Refresher,
    Tokens,
    refresh_tokens,
)
from leadwire.engine.secrets import KeyRing
from leadwire.errors import (
    AuthError,
    BadRequestError,
    DecodeError,
    LeadwireError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from leadwire.logs import install_httpx_redaction, redact_url
from leadwire.store.app import AppStore
from leadwire.store.types import utcnow

TIMEOUT = httpx.Timeout(15.0, connect=5.0)


def _message(response: httpx.Response) -> str:
    """Return the error body's `message` (HighLevel/NestJS shape), else its start."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if not isinstance(body, dict):
        return response.text[:200]
    message = body.get("message") or body.get("error_description") or body.get("error")
    if isinstance(message, list):
        return "; ".join(str(m) for m in message)
    return str(message) if message else response.text[:200]


def error_for(response: httpx.Response, operation: str) -> LeadwireError:
    """Return the classified error of a non-2xx answer of the contacts API."""
    status = response.status_code
    said = f"{operation}: HTTP {status}: {_message(response)}"
    if status in (401, 403):
        return AuthError(said)
    if status == 404:
        return NotFoundError(said)
    if status == 429:
        after = response.headers.get("Retry-After", "")
        return RateLimitedError(said, retry_after_s=float(after) if after.isdigit() else None)
    if status >= 500 or status == 408:
        return UpstreamUnavailableError(said)
    return BadRequestError(said)


def _send(http: httpx.Client, request: httpx.Request, operation: str) -> httpx.Response:
    try:
        response = http.send(request)
    except httpx.TransportError as exc:
        where = redact_url(str(request.url))
        raise UpstreamUnavailableError(
            f"{operation}: cannot reach {where} ({type(exc).__name__})"
        ) from None
    if not response.is_success:
        raise error_for(response, operation)
    return response


def contacts_refresher(
    http: httpx.Client,
    config: ContactsConfig,
    client_secret: str,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> Refresher:
    """Return a refresher that trades the refresh token at the CRM's `/oauth/token`."""

    def refresh(current: Tokens) -> Tokens:
        if current.refresh_token is None or config.client_id is None:
            raise AuthError("contacts.oauth.refresh: no refresh token or client id to refresh with")
        form = {
            "grant_type": "refresh_token",
            "client_id": config.client_id,
            "client_secret": client_secret,
            "refresh_token": current.refresh_token,
            "user_type": "Location",
        }
        now = clock()
        request = http.build_request("POST", config.token_url, data=form)
        body = _send(http, request, "contacts.oauth.refresh").content
        try:
            values = json.loads(body)
            access = str(values["access_token"])
            expires_in = int(values.get("expires_in", 86_399))
        except (ValueError, KeyError, TypeError):
            raise DecodeError("contacts.oauth.refresh: unexpected token response") from None
        scope = values.get("scope")
        return Tokens(
            access_token=access,
            refresh_token=str(values["refresh_token"]) if values.get("refresh_token") else None,
            access_expires_at=now + timedelta(seconds=expires_in),
            scopes=frozenset(str(scope).split()) if scope else None,
        )

    return refresh


def bearer_token(
    store: AppStore,
    ring: KeyRing,
    credentials: Credentials,
    http: httpx.Client,
    *,
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """Return the token to send: the API key, or an OAuth access token refreshed if due."""
    config = credentials.connection.config
    values = credentials.secrets
    assert isinstance(config, ContactsConfig)
    if config.auth is ContactsAuth.API_KEY:
        if values.api_key is None:
            raise AuthError(f"connection {credentials.connection.name!r} holds no API key")
        return values.api_key
    if values.access_token is None:
        raise AuthError(f"connection {credentials.connection.name!r} holds no access token")
    expires_at = credentials.connection.access_expires_at
    due = expires_at is not None and expires_at - clock() < timedelta(
        seconds=DEFAULT_REFRESH_SKEW_S
    )
    if not due or values.client_secret is None or values.refresh_token is None:
        return values.access_token
    refresher = contacts_refresher(http, config, values.client_secret, clock=clock)
    tokens = refresh_tokens(store, credentials.connection.id, refresher, ring=ring, clock=clock)
    return tokens.access_token


def probe_contacts(
    store: AppStore,
    ring: KeyRing,
    ref: str,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> str:
    """Call `GET /contacts/?locationId=…&limit=1` once; return what answered, or raise."""
    install_httpx_redaction()
    credentials = load_credentials(store, ring, ref)
    config = credentials.connection.config
    if not isinstance(config, ContactsConfig):
        raise BadRequestError(f"connection {credentials.connection.name!r} is not a contacts one")
    with httpx.Client(timeout=TIMEOUT, transport=transport, follow_redirects=False) as http:
        token = bearer_token(store, ring, credentials, http, clock=clock)
        request = http.build_request(
            "GET",
            f"{config.base_url.rstrip('/')}/contacts/",
            params={"locationId": config.location_id, "limit": 1},
            headers={
                "Authorization": f"Bearer {token}",
                "Version": config.api_version,
                "Accept": "application/json",
            },
        )
        response = _send(http, request, "contacts.list")
    try:
        total = response.json().get("meta", {}).get("total")
    except (ValueError, AttributeError):
        raise DecodeError("contacts.list: the answer is not the expected JSON") from None
    return f"location {config.location_id}" + (f" ({total} contacts)" if total is not None else "")
