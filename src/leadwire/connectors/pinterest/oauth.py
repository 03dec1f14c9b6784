"""OAuth 2.0 against Pinterest: authorize URL with PKCE, and the three grants of `/oauth/token`.

`/oauth/token` takes HTTP Basic client credentials and a form body. A refresh answers a new
refresh token (continuous refresh tokens rotate); when an answer carries none, the old one stays.
Token values never reach a log line or a `repr`.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
from pydantic import ValidationError

from leadwire.connectors.pinterest.errors import (
    PinterestAuthError,
    error_for_response,
    error_for_transport,
    read_error_body,
)
from leadwire.connectors.pinterest.wire.tokens import GrantType, TokenResponse
from leadwire.errors import DecodeError
from leadwire.logs import redact_url

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
LEAD_ADS_SCOPES = ("ads:read", "ads:write")


def utc_now() -> datetime:
    """Return the current time, aware, in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class PinterestEndpoints:
    """Where Pinterest lives: the real service by default, the local sandbox in sandbox mode."""

    api_base_url: str = "https://api.pinterest.com/v5"
    authorize_page_url: str = "https://www.pinterest.com/oauth/"

    @classmethod
    def sandbox(cls, origin: str) -> PinterestEndpoints:
        """Return the endpoints of a sandbox at `origin` (e.g. `http://127.0.0.1:8420`)."""
        origin = origin.rstrip("/")
        return cls(api_base_url=f"{origin}/v5", authorize_page_url=f"{origin}/oauth/")

    @property
    def token_url(self) -> str:
        """Return the URL of `POST /oauth/token`."""
        return f"{self.api_base_url.rstrip('/')}/oauth/token"


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """A Pinterest app's client id and secret (the secret never shows in a repr)."""

    client_id: str
    client_secret: str = field(repr=False)

    def basic_header(self) -> str:
        """Return the `Authorization: Basic` value of these client credentials."""
        pair = f"{self.client_id}:{self.client_secret}".encode()
        return "Basic " + base64.b64encode(pair).decode("ascii")


@dataclass(frozen=True, slots=True)
class TokenSet:
    """An access token with its expiry, and the refresh token that renews it (if any)."""

    access_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    refresh_expires_at: datetime | None = None
    scopes: frozenset[str] = frozenset()
    token_type: str = "bearer"  # noqa: S105 - a scheme name, not a secret

    def expires_within(self, seconds: float, now: datetime) -> bool:
        """Return whether the access token expires in less than `seconds` from `now`."""
        return self.access_expires_at - now < timedelta(seconds=seconds)

    def can_refresh(self, now: datetime) -> bool:
        """Return whether a refresh token exists and has not expired."""
        if self.refresh_token is None:
            return False
        return self.refresh_expires_at is None or self.refresh_expires_at > now


def make_code_verifier() -> str:
    """Return a fresh PKCE code verifier (86 URL-safe characters, RFC 7636 allows 43-128)."""
    return secrets.token_urlsafe(64)


def code_challenge_s256(verifier: str) -> str:
    """Return the S256 code challenge of `verifier`: base64url(sha256), no padding."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def make_state() -> str:
    """Return an unguessable `state` to bind an authorize redirect to its session."""
    return secrets.token_urlsafe(24)


def authorize_url(
    client_id: str,
    redirect_uri: str,
    scopes: Iterable[str],
    state: str,
    code_challenge: str,
    *,
    endpoints: PinterestEndpoints | None = None,
) -> str:
    """Return the URL that sends a user to Pinterest to grant `scopes` (comma-separated there)."""
    page = (endpoints or PinterestEndpoints()).authorize_page_url
    query = urlencode(
        {
            "client_id": client_id,
            "redirect_uri": redirect_uri,
            "response_type": "code",
            "scope": ",".join(scopes),
            "state": state,
            "code_challenge": code_challenge,
            "code_challenge_method": "S256",
        },
        safe=":,",
    )
    return f"{page}{'&' if '?' in page else '?'}{query}"


def build_token_request(
    endpoints: PinterestEndpoints, app: OAuthApp, form: dict[str, str]
) -> httpx.Request:
    """Return a `POST /oauth/token` request with Basic client auth and `form` as its body."""
    return httpx.Request(
        "POST",
        endpoints.token_url,
        data=form,
        headers={"Authorization": app.basic_header(), "Accept": "application/json"},
    )


def refresh_form(tokens: TokenSet) -> dict[str, str]:
    """Return the form of a refresh grant; `continuous_refresh` asks for a rotating token."""
    if tokens.refresh_token is None:
        raise PinterestAuthError("pinterest.oauth.refresh: no refresh token to refresh with")
    return {
        "grant_type": GrantType.REFRESH_TOKEN.value,
        "refresh_token": tokens.refresh_token,
        "continuous_refresh": "true",
    }


def _from_epoch(value: int) -> datetime:
    # Pinterest documents seconds; a value this large can only be milliseconds.
    return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)


def read_token_response(
    response: httpx.Response, grant: GrantType, now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """Return the tokens a `/oauth/token` response carries, or raise its classified error."""
    operation = f"pinterest.oauth.{grant.value}"
    if not response.is_success:
        error = error_for_response(response, operation, now)
        code, message = read_error_body(response)
        logger.warning(
            "pinterest.oauth.failed grant=%s status=%d code=%s",
            grant.value,
            response.status_code,
            code,
        )
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            # Any refusal of a grant (Pinterest's code 283 "The authorization grant is invalid")
            # means the user must connect again; retrying the same grant cannot help.
            said = f" (code {code}: {message})" if code is not None else ""
            raise PinterestAuthError(
                f"{operation}: Pinterest refused the grant (HTTP {response.status_code}){said}",
                http_status=response.status_code,
                code=code,
                message=message,
            )
        raise error
    try:
        body = TokenResponse.model_validate_json(response.content)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "body"
        raise DecodeError(f"{operation}: token response {where}: {problem['msg']}") from None
    tokens = _token_set(body, now, previous)
    logger.info(
        "pinterest.oauth.granted grant=%s expires_in_s=%d rotated=%s",
        grant.value,
        body.expires_in,
        body.refresh_token is not None,
    )
    return tokens


def _token_set(body: TokenResponse, now: datetime, previous: TokenSet | None) -> TokenSet:
    scopes = frozenset(s for s in body.scope.replace(",", " ").split() if s)
    tokens = TokenSet(
        access_token=body.access_token,
        access_expires_at=now + timedelta(seconds=body.expires_in),
        scopes=scopes,
        token_type=body.token_type,
    )
    if body.refresh_token is not None:
        if body.refresh_token_expires_at is not None:
            refresh_expires_at: datetime | None = _from_epoch(body.refresh_token_expires_at)
        elif body.refresh_token_expires_in is not None:
            refresh_expires_at = now + timedelta(seconds=body.refresh_token_expires_in)
        else:
            refresh_expires_at = None
        return replace(
            tokens, refresh_token=body.refresh_token, refresh_expires_at=refresh_expires_at
        )
    if previous is not None:
        return replace(
            tokens,
            refresh_token=previous.refresh_token,
            refresh_expires_at=previous.refresh_expires_at,
        )
    return tokens


def request_tokens(
    http: httpx.Client,
    endpoints: PinterestEndpoints,
    app: OAuthApp,
    form: dict[str, str],
    *,
    clock: Clock = utc_now,
) -> TokenSet:
    """Send one grant to `/oauth/token` on `http` (without its auth) and return the tokens."""
    grant = GrantType(form["grant_type"])
    request = build_token_request(endpoints, app, form)
    now = clock()
    try:
        response = http.send(request, auth=None)
    except httpx.TransportError as exc:
        raise error_for_transport(exc, f"pinterest.oauth.{grant.value}") from None
    logger.debug(
        "pinterest.oauth.sent grant=%s url=%s status=%d",
        grant.value,
        redact_url(str(request.url)),
        response.status_code,
    )
    return read_token_response(response, grant, now)


def exchange_code(
    http: httpx.Client,
    endpoints: PinterestEndpoints,
    app: OAuthApp,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    *,
    clock: Clock = utc_now,
) -> TokenSet:
    """Trade an authorization code (and its PKCE verifier) for tokens."""
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    form["continuous_refresh"] = "true"
    return request_tokens(http, endpoints, app, form, clock=clock)


def client_credentials(
    http: httpx.Client,
    endpoints: PinterestEndpoints,
    app: OAuthApp,
    scopes: Iterable[str] = LEAD_ADS_SCOPES,
    *,
    clock: Clock = utc_now,
) -> TokenSet:
    """Get an app token (no user, no refresh token) for `scopes`."""
    form = {"grant_type": "client_credentials", "scope": ",".join(scopes)}
    return request_tokens(http, endpoints, app, form, clock=clock)
