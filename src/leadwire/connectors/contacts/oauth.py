"""OAuth 2.0 against HighLevel (or the embedded CRM): consent URL with PKCE, and `/oauth/token`.

`POST {base}/oauth/token` takes a form body with the client credentials in it (`client_id`,
`client_secret`, `grant_type`, `code` or `refresh_token`, `user_type=Location`). Every refresh
answers a new refresh token and retires the old one (contacts-api.md §10): the caller must keep
both new tokens, atomically, every time. Token values never reach a log line or a `repr`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

import httpx
from pydantic import ValidationError

from leadwire.connectors.contacts.errors import (
    ContactsAuthError,
    ErrorBody,
    error_for_response,
    error_for_transport,
)
from leadwire.connectors.contacts.wire.tokens import GrantType, TokenError, TokenResponse
from leadwire.errors import DecodeError

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]
CONTACTS_SCOPES = ("contacts.readonly", "contacts.write")
USER_TYPE = "Location"


def utc_now() -> datetime:
    """Return the current time, aware, in UTC (the default clock)."""
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class ContactsEndpoints:
    """Where the API lives: HighLevel by default, the embedded CRM with `embedded(origin)`."""

    api_base_url: str = "https://services.leadconnectorhq.com"
    authorize_page_url: str = "https://marketplace.gohighlevel.com/v2/oauth/chooselocation"

    @classmethod
    def embedded(cls, origin: str) -> ContactsEndpoints:
        """Return the endpoints of an embedded CRM at `origin` (e.g. `http://127.0.0.1:8410`)."""
        origin = origin.rstrip("/")
        return cls(api_base_url=origin, authorize_page_url=f"{origin}/oauth/chooselocation")

    @property
    def token_url(self) -> str:
        """Return the URL of `POST /oauth/token`."""
        return f"{self.api_base_url.rstrip('/')}/oauth/token"


@dataclass(frozen=True, slots=True)
class OAuthApp:
    """A marketplace app's client id and secret (the secret never shows in a repr)."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TokenSet:
    """A Location access token with its expiry, and the refresh token that renews it."""

    access_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_token: str | None = field(default=None, repr=False)
    scopes: frozenset[str] = frozenset()
    location_id: str | None = None
    company_id: str | None = None
    user_id: str | None = None

    def expires_within(self, seconds: float, now: datetime) -> bool:
        """Return whether the access token expires in less than `seconds` from `now`."""
        return self.access_expires_at - now < timedelta(seconds=seconds)

    @property
    def can_refresh(self) -> bool:
        """Return whether there is a refresh token to refresh with."""
        return bool(self.refresh_token)


def authorize_url(
    endpoints: ContactsEndpoints,
    client_id: str,
    redirect_uri: str,
    state: str,
    code_challenge: str | None = None,
    scopes: Iterable[str] = CONTACTS_SCOPES,
) -> str:
    """Return the consent page URL asking for `scopes` (space-separated there)."""
    query = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": redirect_uri,
        "scope": " ".join(scopes),
        "state": state,
    }
    if code_challenge is not None:
        query |= {"code_challenge": code_challenge, "code_challenge_method": "S256"}
    page = endpoints.authorize_page_url
    return f"{page}{'&' if '?' in page else '?'}{urlencode(query)}"


def build_token_request(
    endpoints: ContactsEndpoints, app: OAuthApp, form: dict[str, str]
) -> httpx.Request:
    """Return a `POST /oauth/token` request with the client credentials in the form body."""
    body = {
        "client_id": app.client_id,
        "client_secret": app.client_secret,
        "user_type": USER_TYPE,
        **form,
    }
    return httpx.Request(
        "POST", endpoints.token_url, data=body, headers={"Accept": "application/json"}
    )


def refresh_form(tokens: TokenSet) -> dict[str, str]:
    """Return the form of a refresh grant."""
    if not tokens.refresh_token:
        raise ContactsAuthError(
            "contacts.oauth.refresh: no refresh token; re-authorise the connection"
        )
    return {"grant_type": GrantType.REFRESH_TOKEN.value, "refresh_token": tokens.refresh_token}


def _refusal(response: httpx.Response, operation: str) -> ContactsAuthError:
    try:
        said = TokenError.model_validate_json(response.content)
        code = said.error or ""
    except ValidationError:
        code = ""
    text = ErrorBody(response).text
    if code == "invalid_grant" or "revoked" in text or "already used" in text:
        why = "the refresh token was already used, revoked or has expired"
    else:
        why = (
            f"the token endpoint refused the grant ({code or 'HTTP ' + str(response.status_code)})"
        )
    return ContactsAuthError(
        f"{operation}: {why}; re-authorisation is needed (connect the CRM again)",
        status_code=response.status_code,
        message=text,
        operation=operation,
    )


def read_token_response(
    response: httpx.Response, grant: GrantType, now: datetime, previous: TokenSet | None = None
) -> TokenSet:
    """Return the tokens a `/oauth/token` answer carries, or raise its classified error.

    Any 4xx but 408/429 means the grant itself is dead (HighLevel answers 400 or 401 with
    `invalid_grant` or `UnAuthorized!`): retrying cannot help, a person must reconnect.
    """
    operation = f"contacts.oauth.{grant.value}"
    if not response.is_success:
        logger.warning(
            "contacts.oauth.failed grant=%s status=%d", grant.value, response.status_code
        )
        if 400 <= response.status_code < 500 and response.status_code not in (408, 429):
            raise _refusal(response, operation)
        raise error_for_response(response, operation)
    try:
        body = TokenResponse.model_validate_json(response.content)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(p) for p in problem["loc"]) or "body"
        raise DecodeError(f"{operation}: token response {where}: {problem['msg']}") from None
    if grant is GrantType.REFRESH_TOKEN and not body.refresh_token:
        # HighLevel always rotates; keeping the old one is the best guess if it ever does not.
        logger.warning("contacts.oauth.no_rotation grant=%s", grant.value)
    tokens = TokenSet(
        access_token=body.access_token,
        access_expires_at=now + timedelta(seconds=body.expires_in),
        refresh_token=body.refresh_token or (previous.refresh_token if previous else None),
        scopes=frozenset(body.scope.split()),
        location_id=body.location_id or (previous.location_id if previous else None),
        company_id=body.company_id or (previous.company_id if previous else None),
        user_id=body.user_id or (previous.user_id if previous else None),
    )
    logger.info(
        "contacts.oauth.granted grant=%s expires_in_s=%d rotated=%s",
        grant.value,
        body.expires_in,
        body.refresh_token is not None,
    )
    return tokens


def request_tokens(
    http: httpx.Client,
    endpoints: ContactsEndpoints,
    app: OAuthApp,
    form: dict[str, str],
    *,
    clock: Clock = utc_now,
    previous: TokenSet | None = None,
) -> TokenSet:
    """Send one grant to `/oauth/token` on `http` (without its auth) and return the tokens."""
    grant = GrantType(form["grant_type"])
    now = clock()
    try:
        response = http.send(build_token_request(endpoints, app, form), auth=None)
    except httpx.RequestError as exc:
        raise error_for_transport(exc, f"contacts.oauth.{grant.value}") from None
    return read_token_response(response, grant, now, previous)


def exchange_code(
    http: httpx.Client,
    endpoints: ContactsEndpoints,
    app: OAuthApp,
    code: str,
    redirect_uri: str,
    code_verifier: str | None = None,
    *,
    clock: Clock = utc_now,
) -> TokenSet:
    """Trade an authorization code (and its PKCE verifier) for a Location token pair."""
    form = {"grant_type": GrantType.AUTHORIZATION_CODE.value, "code": code}
    form["redirect_uri"] = redirect_uri
    if code_verifier is not None:
        form["code_verifier"] = code_verifier
    return request_tokens(http, endpoints, app, form, clock=clock)


def refresh_tokens(
    http: httpx.Client,
    endpoints: ContactsEndpoints,
    app: OAuthApp,
    tokens: TokenSet,
    *,
    clock: Clock = utc_now,
) -> TokenSet:
    """Refresh `tokens` once, outside any auth flow; the answer holds a NEW refresh token."""
    return request_tokens(http, endpoints, app, refresh_form(tokens), clock=clock, previous=tokens)
