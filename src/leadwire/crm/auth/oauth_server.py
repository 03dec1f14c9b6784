"""The CRM's OAuth 2.0 authorization server: Authlib's protocol classes on the CRM's store.

One server is built per request around that request's session; it is a handful of objects.
Errors take HighLevel's shape where HighLevel is known to answer one (401
`{"error": "UnAuthorized!", "error_description": ...}` for a bad code or a bad client) and
RFC 6749 §5.2's everywhere else (400 `invalid_request`, `invalid_grant`, ...).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    InvalidClientError,
    InvalidScopeError,
    OAuth2Error,
)
from authlib.oauth2.rfc7009 import RevocationEndpoint
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.responses import Response

from leadwire.crm.auth.oauth_grants import (
    ClientView,
    CodeGrant,
    Grantee,
    RotatingRefreshGrant,
    S256Challenge,
    TokenView,
    UnAuthorizedError,
    revoke_family,
    root_token_id,
)
from leadwire.crm.auth.oauth_http import CrmOAuth2Request, FormRequest, printable, to_response
from leadwire.crm.auth.principal import ALL_SCOPES, hash_token
from leadwire.crm.ids import new_id
from leadwire.crm.models import OAuthClient, OAuthToken, utcnow
from leadwire.settings import Settings

USER_TYPE = "Location"


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    """RFC 7009. An access token takes its refresh token with it; a refresh token takes every
    token of its grant (RFC 7009 §2.1: access tokens "based on the same authorization grant").
    """

    CLIENT_AUTH_METHODS = ["client_secret_basic", "client_secret_post"]

    def query_token(self, token_string: str, token_type_hint: str | None) -> TokenView | None:
        db: Session = self.server.db
        digest = hash_token(token_string)
        # The hint only orders the look-ups (RFC 7009 §2.1: a wrong hint still finds it).
        order = ["access_token", "refresh_token"]
        if token_type_hint == order[1]:
            order.reverse()
        for kind in order:
            column = OAuthToken.access_hash if kind == "access_token" else OAuthToken.refresh_hash
            row = db.scalar(select(OAuthToken).where(column == digest))
            if row is not None:
                return TokenView(row, kind)
        return None

    def revoke_token(self, token: TokenView, request: Any) -> None:
        server: CrmAuthorizationServer = self.server
        now = utcnow()
        if token.presented == "refresh_token":
            revoke_family(server.db, token.row, now)
        elif token.row.revoked_at is None:
            token.row.revoked_at = now
        server.revoked = True


class CrmAuthorizationServer(AuthorizationServer):  # type: ignore[misc]
    """Authorization code (+ PKCE S256), rotating refresh tokens and revocation.

    `revoked` turns true when the request revoked tokens: the caller must commit, then drop
    the gate's cache of principals, so that a revoked token is refused at once.
    """

    def __init__(self, db: Session, settings: Settings) -> None:
        super().__init__(scopes_supported=list(ALL_SCOPES))
        self.db = db
        self.settings = settings
        self.revoked = False
        self.register_token_generator("default", self._generate_token)
        self.register_grant(CodeGrant, [S256Challenge(required=True)])
        self.register_grant(RotatingRefreshGrant)
        self.register_endpoint(Revocation)

    # -- what Authlib asks of a framework integration -------------------------------------

    def create_oauth2_request(self, request: CrmOAuth2Request | FormRequest) -> CrmOAuth2Request:
        if isinstance(request, CrmOAuth2Request):
            return request
        # Token and revocation requests carry their parameters in the form body.
        return CrmOAuth2Request(request, request.body)

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return to_response(status, body, headers)

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None

    def handle_error_response(self, request: Any, error: OAuth2Error) -> Response:
        if isinstance(error, InvalidClientError) and not error.redirect_uri:
            # HighLevel's shape; WWW-Authenticate because RFC 6749 §5.2 asks for it on 401.
            status, body, headers = UnAuthorizedError(
                "Client authentication failed: unknown client_id or wrong client_secret"
            )()
            headers.append(("WWW-Authenticate", 'Basic realm="oauth"'))
            return to_response(status, body, headers)
        response: Response = super().handle_error_response(request, error)
        return response

    # -- the CRM's store ----------------------------------------------------------------

    def query_client(self, client_id: str) -> ClientView | None:
        row = self.db.get(OAuthClient, client_id)
        return ClientView(row) if row is not None else None

    def validate_requested_scope(self, scope: str | None) -> None:
        unknown = sorted(set((scope or "").split()) - set(ALL_SCOPES))
        if unknown:
            raise InvalidScopeError(
                description=f"Unknown scope {printable(' '.join(unknown))}: "
                f"this CRM grants {' '.join(ALL_SCOPES)}"
            )

    def _generate_token(
        self,
        grant_type: str,
        client: ClientView,
        user: Grantee | None = None,
        scope: str | None = None,
        expires_in: int | None = None,
        include_refresh_token: bool = True,
    ) -> dict[str, Any]:
        assert user is not None
        # HighLevel's GetAccessCodeSuccessfulResponseDto: RFC 6749 §5.1 plus who was granted.
        token: dict[str, Any] = {
            "access_token": secrets.token_urlsafe(32),
            "token_type": "Bearer",
            "expires_in": expires_in or self.settings.crm_access_token_ttl_s,
            "refresh_token": secrets.token_urlsafe(32),
            "scope": scope or "",
            "userType": USER_TYPE,
            "companyId": user.company_id,
            "locationId": user.location_id,
            "userId": user.user_id,
            "isBulkInstallation": False,
        }
        if not include_refresh_token:
            del token["refresh_token"]
        return token

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        grantee: Grantee = request.user
        now = utcnow()
        parent: TokenView | None = request.refresh_token
        if parent is not None:
            token_id, parent_id = new_id(), parent.row.id
        else:
            token_id, parent_id = root_token_id(request.authorization_code.row.code_hash), None
        refresh = token.get("refresh_token")
        self.db.add(
            OAuthToken(
                id=token_id,
                client_id=request.client.row.id,
                location_id=grantee.location_id,
                user_id=grantee.user_id,
                user_type=USER_TYPE,
                access_hash=hash_token(token["access_token"]),
                refresh_hash=hash_token(refresh) if refresh else None,
                scope=token["scope"],
                issued_at=now,
                access_expires_at=now + timedelta(seconds=token["expires_in"]),
                refresh_expires_at=(
                    now + timedelta(seconds=self.settings.crm_refresh_token_ttl_s)
                    if refresh
                    else None
                ),
                parent_id=parent_id,
            )
        )
