"""OAuth 2.0 as Pinterest runs it: codes with PKCE, tokens, rotation, client credentials.

Written by hand rather than on Authlib's server classes: the three grants fit in this module,
Authlib has no FastAPI server integration, and Pinterest's answers (`{"code": 283, ...}`,
`response_type` in the token body, comma-separated scopes) differ from RFC 6749's anyway.
Codes and tokens are random and stored as SHA-256 hashes only.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.sandbox.errors import auth_failed, bad_grant, invalid
from leadwire.sandbox.ids import is_digits, new_id
from leadwire.sandbox.keys import hash_secret
from leadwire.sandbox.models import App, AuthCode, Token, utcnow
from leadwire.settings import Settings

log = logging.getLogger(__name__)

# Every scope of the spec's `pinterest_oauth2` scheme; lead ads need only the first two.
SCOPES = (
    "ads:read",
    "ads:write",
    "billing:read",
    "billing:write",
    "biz_access:read",
    "biz_access:write",
    "boards:read",
    "boards:read_secret",
    "boards:write",
    "boards:write_secret",
    "catalogs:read",
    "catalogs:write",
    "msot:write",
    "pins:read",
    "pins:read_secret",
    "pins:write",
    "pins:write_secret",
    "user_accounts:read",
    "user_accounts:write",
)
CODE_TTL_S = 600
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")


class GrantType:
    """What minted a token (stored on it)."""

    AUTHORIZATION_CODE = "authorization_code"
    REFRESH_TOKEN = "refresh_token"  # noqa: S105 (a grant name, not a secret)
    CLIENT_CREDENTIALS = "client_credentials"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the token's app, user and scopes, and whether it is a client token."""

    token_id: str
    app_id: str
    user_id: str | None
    scopes: frozenset[str]
    is_client: bool


def parse_scopes(text: str) -> tuple[str, ...]:
    """Return the scopes of a comma- or space-separated list; ValueError naming unknown ones."""
    found: list[str] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if part and part not in found:
            found.append(part)
    unknown = [s for s in found if s not in SCOPES]
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(unknown)}")
    if not found:
        raise ValueError("no scope given")
    return tuple(found)


def authenticate_client(session: Session, authorization: str | None) -> App:
    """Return the app named by an HTTP Basic header; 401 code 2 if missing or wrong."""
    if not authorization or authorization[:6].lower() != "basic ":
        raise auth_failed()
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode("utf-8")
    except (ValueError, UnicodeDecodeError):
        raise auth_failed() from None
    client_id, sep, secret = decoded.partition(":")
    app = session.get(App, client_id) if sep and is_digits(client_id) else None
    if app is None or not hmac.compare_digest(app.secret_hash, hash_secret(secret)):
        raise auth_failed()
    return app


def redirect_allowed(app: App, redirect_uri: str) -> bool:
    """Tell whether `redirect_uri` may receive this app's codes (any http(s) URI if none set)."""
    if app.redirect_uris:
        return redirect_uri in app.redirect_uris
    return redirect_uri.startswith(("http://", "https://"))


def issue_code(
    session: Session,
    app: App,
    user_id: str,
    *,
    redirect_uri: str,
    scopes: tuple[str, ...],
    code_challenge: str | None,
    code_challenge_method: str | None,
) -> str:
    """Mint a single-use authorization code. Caller commits."""
    code = secrets.token_urlsafe(32)
    session.add(
        AuthCode(
            code_hash=hash_secret(code),
            app_id=app.id,
            user_id=user_id,
            redirect_uri=redirect_uri,
            scope=",".join(scopes),
            code_challenge=code_challenge,
            code_challenge_method=(code_challenge_method or "plain") if code_challenge else None,
            expires_at=utcnow() + timedelta(seconds=CODE_TTL_S),
        )
    )
    return code


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A token pair as shown once to its holder."""

    access_token: str
    refresh_token: str | None
    scope: str
    access_expires_at: datetime
    refresh_expires_at: datetime | None

    def wire(self, response_type: str) -> dict[str, Any]:
        """Return the `/oauth/token` body (`OauthAccessTokenResponse*` of the spec)."""
        now = utcnow()
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "bearer",
            "expires_in": max(0, int((self.access_expires_at - now).total_seconds())),
            "scope": self.scope,
            "response_type": response_type,
        }
        if self.refresh_token is not None and self.refresh_expires_at is not None:
            body["refresh_token"] = self.refresh_token
            body["refresh_token_expires_in"] = max(
                0, int((self.refresh_expires_at - now).total_seconds())
            )
            body["refresh_token_expires_at"] = int(self.refresh_expires_at.timestamp())
        return body


def issue_token(
    session: Session,
    settings: Settings,
    *,
    app_id: str,
    user_id: str | None,
    scope: str,
    grant_type: str,
    access_ttl_s: int | None = None,
) -> IssuedToken:
    """Mint an access token (and a refresh token unless client_credentials). Caller commits."""
    now = utcnow()
    access = "pina_" + secrets.token_urlsafe(32)
    refresh = (
        None if grant_type == GrantType.CLIENT_CREDENTIALS else "pinr_" + secrets.token_urlsafe(32)
    )
    access_expires = now + timedelta(seconds=access_ttl_s or settings.sandbox_access_token_ttl_s)
    refresh_expires = (
        now + timedelta(seconds=settings.sandbox_refresh_token_ttl_s) if refresh else None
    )
    session.add(
        Token(
            id=new_id(),
            app_id=app_id,
            user_id=user_id,
            grant_type=grant_type,
            access_hash=hash_secret(access),
            refresh_hash=hash_secret(refresh) if refresh else None,
            scope=scope,
            issued_at=now,
            access_expires_at=access_expires,
            refresh_expires_at=refresh_expires,
        )
    )
    return IssuedToken(access, refresh, scope, access_expires, refresh_expires)


def _pkce_matches(code: AuthCode, verifier: str | None) -> bool:
    if code.code_challenge is None:
        return True
    if verifier is None or _VERIFIER.fullmatch(verifier) is None:
        return False
    if code.code_challenge_method == "S256":
        digest = hashlib.sha256(verifier.encode("ascii")).digest()
        expected = base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")
    else:
        expected = verifier
    return hmac.compare_digest(expected, code.code_challenge)


def exchange_code(
    session: Session,
    settings: Settings,
    app: App,
    *,
    code: str,
    redirect_uri: str,
    code_verifier: str | None,
) -> dict[str, Any]:
    """Redeem an authorization code once; 283 for anything wrong with it. Caller commits."""
    found = session.get(AuthCode, hash_secret(code), with_for_update=True)
    now = utcnow()
    reason = None
    if found is None or found.app_id != app.id:
        reason = "unknown code"
    elif found.used_at is not None:
        reason = "code already used"
    elif found.expires_at <= now:
        reason = "code expired"
    elif found.redirect_uri != redirect_uri:
        reason = "redirect_uri differs from the authorize request's"
    elif not _pkce_matches(found, code_verifier):
        reason = "code_verifier does not match the code_challenge"
    if reason is not None or found is None:
        log.info(
            "sandbox.oauth.bad_grant grant=authorization_code app=%s reason=%s", app.id, reason
        )
        raise bad_grant()
    found.used_at = now
    issued = issue_token(
        session,
        settings,
        app_id=app.id,
        user_id=found.user_id,
        scope=found.scope,
        grant_type=GrantType.AUTHORIZATION_CODE,
    )
    return issued.wire(GrantType.AUTHORIZATION_CODE)


def refresh(
    session: Session, settings: Settings, app: App, *, refresh_token: str, scope: str | None
) -> dict[str, Any]:
    """Rotate a refresh token: a new pair is issued and the old refresh token stops working."""
    old = session.scalar(
        select(Token).where(Token.refresh_hash == hash_secret(refresh_token)).with_for_update()
    )
    now = utcnow()
    if (
        old is None
        or old.app_id != app.id
        or old.revoked_at is not None
        or old.refresh_expires_at is None
        or old.refresh_expires_at <= now
    ):
        log.info("sandbox.oauth.bad_grant grant=refresh_token app=%s", app.id)
        raise bad_grant()
    granted = old.scope.split(",")
    wanted = granted
    if scope:
        try:
            wanted = list(parse_scopes(scope))
        except ValueError as exc:
            raise invalid(1, f"Invalid parameters: {exc}.") from None
        extra = [s for s in wanted if s not in granted]
        if extra:
            raise invalid(1, f"Invalid parameters: scope {', '.join(extra)} was never granted.")
    # The old access token lives on until it expires; only the refresh token rotates.
    old.refresh_hash = None
    issued = issue_token(
        session,
        settings,
        app_id=app.id,
        user_id=old.user_id,
        scope=",".join(wanted),
        grant_type=GrantType.REFRESH_TOKEN,
    )
    return issued.wire(GrantType.REFRESH_TOKEN)


def client_credentials(
    session: Session, settings: Settings, app: App, *, scope: str
) -> dict[str, Any]:
    """Issue a client token acting as the app's owner (no refresh token). Caller commits."""
    try:
        scopes = parse_scopes(scope)
    except ValueError as exc:
        raise invalid(1, f"Invalid parameters: {exc}.") from None
    issued = issue_token(
        session,
        settings,
        app_id=app.id,
        user_id=app.owner_id,
        scope=",".join(scopes),
        grant_type=GrantType.CLIENT_CREDENTIALS,
    )
    return issued.wire(GrantType.CLIENT_CREDENTIALS)


def resolve(session: Session, access_token: str) -> Caller:
    """Return the caller behind a bearer token; 401 code 2 if unknown, expired or revoked."""
    token = session.scalar(select(Token).where(Token.access_hash == hash_secret(access_token)))
    if token is None or token.revoked_at is not None or token.access_expires_at <= utcnow():
        raise auth_failed()
    return Caller(
        token_id=token.id,
        app_id=token.app_id,
        user_id=token.user_id,
        scopes=frozenset(token.scope.split(",")),
        is_client=token.grant_type == GrantType.CLIENT_CREDENTIALS,
    )
