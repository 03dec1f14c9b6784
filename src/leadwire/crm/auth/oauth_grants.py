"""Authlib's grants on the CRM's tables: authorization code with PKCE, rotating refresh tokens.

Rows are wrapped in small views implementing Authlib's mixins. Secrets never reach the store:
codes and tokens are looked up by SHA-256.

A token row holds an access/refresh pair; a refresh makes a child row (`parent_id`). A refresh
token whose row has a child was used, and using it again means two parties hold it: the whole
family is revoked (OAuth 2.0 Security BCP, RFC 9700 §4.14.2). The first row of a family gets an
id derived from its authorization code, so replaying a used code revokes its tokens too
(RFC 6749 §4.1.2).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from authlib.oauth2.rfc6749 import (
    AuthorizationCodeMixin,
    ClientMixin,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    OAuth2Error,
    TokenMixin,
    grants,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from leadwire.crm.auth.oauth_http import printable
from leadwire.crm.auth.principal import ALL_SCOPES, hash_token
from leadwire.crm.models import Location, OAuthClient, OAuthCode, OAuthToken, User, utcnow

if TYPE_CHECKING:
    from leadwire.crm.auth.oauth_server import CrmAuthorizationServer

CODE_TTL = timedelta(minutes=10)  # RFC 6749 §4.1.2 recommends 10 minutes at most.
GRANT_TYPES = frozenset({"authorization_code", "refresh_token"})


class UnAuthorizedError(OAuth2Error):  # type: ignore[misc]
    """HighLevel's answer to a bad code or bad client: 401 `{"error": "UnAuthorized!", ...}`."""

    error = "UnAuthorized!"
    status_code = 401


@dataclass(frozen=True)
class Grantee:
    """Who approved the grant: a location (Authlib's "user"), its company and owner user."""

    location_id: str
    company_id: str
    user_id: str | None


class ClientView(ClientMixin):  # type: ignore[misc]
    """A confidential client: secret in the body or HTTP Basic, exact redirect URIs."""

    def __init__(self, row: OAuthClient) -> None:
        self.row = row

    def get_client_id(self) -> str:
        return self.row.id

    def get_default_redirect_uri(self) -> str | None:
        # Only an unambiguous default: with several URIs the request must name one.
        uris = self.row.redirect_uris
        return uris[0] if len(uris) == 1 else None

    def get_allowed_scope(self, scope: str | None) -> str:
        allowed = self.row.scopes.split()
        if not scope:
            return " ".join(allowed)
        refused = sorted(set(scope.split()) - set(allowed))
        if refused:
            raise InvalidScopeError(
                description=f"This app may not request {printable(' '.join(refused))} "
                f"(it may request: {' '.join(allowed)})"
            )
        return " ".join(s for s in ALL_SCOPES if s in scope.split())

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(hash_token(client_secret), self.row.secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


class CodeView(AuthorizationCodeMixin):  # type: ignore[misc]
    """An unused, unexpired authorization code; `code_challenge*` are read by CodeChallenge."""

    def __init__(self, row: OAuthCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope


class TokenView(TokenMixin):  # type: ignore[misc]
    """A token row, and which of its two tokens was presented."""

    def __init__(self, row: OAuthToken, presented: str) -> None:
        self.row = row
        self.presented = presented

    def check_client(self, client: ClientView) -> bool:
        return self.row.client_id == client.row.id

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.access_expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return self.row.access_expires_at <= utcnow()

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None


def root_token_id(code_hash: bytes) -> str:
    """Return the id of the first token row issued for a code (a one-way function of it)."""
    return hashlib.sha256(b"leadwire-oauth-code:" + code_hash).hexdigest()[:32]


def grantee_of(db: Session, location_id: str, user_id: str | None) -> Grantee | None:
    """Return the grantee for a location that still exists."""
    location = db.get(Location, location_id)
    if location is None:
        return None
    return Grantee(location.id, location.company_id, user_id)


def owner_of(db: Session, location_id: str) -> str | None:
    """Return the location's first user, who stands for the installing user (`userId`)."""
    return db.scalar(
        select(User.id).where(User.location_id == location_id).order_by(User.id).limit(1)
    )


def revoke_family(db: Session, member: OAuthToken, now: datetime) -> None:
    """Revoke every token row descending from the root of `member`'s family."""
    root = member
    while root.parent_id is not None:
        parent = db.get(OAuthToken, root.parent_id)
        if parent is None:
            break
        root = parent
    family, frontier = [root.id], [root.id]
    while frontier:
        frontier = list(db.scalars(select(OAuthToken.id).where(OAuthToken.parent_id.in_(frontier))))
        family += frontier
    db.execute(
        update(OAuthToken)
        .where(OAuthToken.id.in_(family), OAuthToken.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )


def _server(grant: Any) -> CrmAuthorizationServer:
    server: CrmAuthorizationServer = grant.server
    return server


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE with S256 only: `plain` protects nothing a TLS-less observer cannot see."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if data.get("code_challenge") and data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256 (plain is refused)")
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
    """Authorization code: single use, 10 minutes, bound to client, redirect URI and PKCE."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        grantee: Grantee = request.user
        now = utcnow()
        data = request.payload.data
        db = _server(self).db
        # Spent and expired codes are kept a day for replay detection, then dropped.
        db.execute(delete(OAuthCode).where(OAuthCode.expires_at < now - timedelta(days=1)))
        db.add(
            OAuthCode(
                code_hash=hash_token(code),
                client_id=request.client.row.id,
                location_id=grantee.location_id,
                user_id=grantee.user_id,
                redirect_uri=request.payload.redirect_uri or "",
                scope=request.scope,
                code_challenge=data.get("code_challenge"),
                code_challenge_method=data.get("code_challenge_method"),
                expires_at=now + CODE_TTL,
            )
        )

    def query_authorization_code(self, code: str, client: ClientView) -> CodeView:
        server = _server(self)
        digest = hash_token(code)
        row = server.db.scalar(
            select(OAuthCode).where(OAuthCode.code_hash == digest).with_for_update()
        )
        if row is None or row.client_id != client.row.id:
            raise UnAuthorizedError("Authorization code not found")
        if row.used_at is not None:
            first = server.db.get(OAuthToken, root_token_id(digest))
            if first is not None:
                revoke_family(server.db, first, utcnow())
                server.revoked = True
            raise UnAuthorizedError(
                "Authorization code was already used; the tokens issued for it are revoked"
            )
        if row.expires_at <= utcnow():
            raise UnAuthorizedError("Authorization code has expired; start the authorization again")
        return CodeView(row)

    def delete_authorization_code(self, authorization_code: CodeView) -> None:
        # Kept, marked used, so that a replay is recognised (and revokes what it got).
        authorization_code.row.used_at = utcnow()

    def authenticate_user(self, authorization_code: CodeView) -> Grantee | None:
        row = authorization_code.row
        return grantee_of(_server(self).db, row.location_id, row.user_id)


class RotatingRefreshGrant(grants.RefreshTokenGrant):  # type: ignore[misc]
    """Refresh: a new pair every time; the old refresh token is spent, its reuse detected."""

    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> TokenView:
        server = _server(self)
        row = server.db.scalar(
            select(OAuthToken)
            .where(OAuthToken.refresh_hash == hash_token(refresh_token))
            .with_for_update()
        )
        # Another client's token is unknown to this one, and has no side effects.
        if row is None or row.client_id != self.request.client.row.id:
            raise InvalidGrantError("Invalid refresh token")
        if row.revoked_at is not None:
            raise InvalidGrantError("Refresh token was revoked")
        spent = server.db.scalar(
            select(OAuthToken.id).where(OAuthToken.parent_id == row.id).limit(1)
        )
        if spent is not None:
            revoke_family(server.db, row, utcnow())
            server.revoked = True
            raise InvalidGrantError(
                "Refresh token was already used (refresh tokens rotate); every token of "
                "this grant is now revoked: authorize the app again"
            )
        if row.refresh_expires_at is not None and row.refresh_expires_at <= utcnow():
            raise InvalidGrantError("Refresh token has expired; authorize the app again")
        return TokenView(row, "refresh_token")

    def authenticate_user(self, refresh_token: TokenView) -> Grantee | None:
        row = refresh_token.row
        return grantee_of(_server(self).db, row.location_id, row.user_id)

    def revoke_old_credential(self, refresh_token: TokenView) -> None:
        # Nothing to write: the new row's `parent_id` marks the old refresh token spent. The
        # old access token lives on until it expires, as HighLevel's (stateless JWT) ones do.
        return None
