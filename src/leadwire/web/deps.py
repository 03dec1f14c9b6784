"""What routes take from the app: its services, and the bearer token check of `/api/*`."""

from __future__ import annotations

from fastapi import Request

from leadwire.web.errors import ApiError
from leadwire.web.services import WebServices

_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="leadwire"'}


def services_of(request: Request) -> WebServices:
    """Return the app's services."""
    services: WebServices = request.app.state.services
    return services


async def require_token(request: Request) -> None:
    """Refuse the request (401) unless it carries a valid `Authorization: Bearer` token."""
    tokens = services_of(request).tokens
    if not tokens.is_configured:
        raise ApiError(
            401,
            "the API has no token configured: set LEADWIRE_API_TOKEN, or let `leadwire up` "
            "make one",
            headers=_CHALLENGE,
        )
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise ApiError(
            401, "send the API token as `Authorization: Bearer <token>`", headers=_CHALLENGE
        )
    if not tokens.accepts(value.strip()):
        raise ApiError(401, "the bearer token is not valid", headers=_CHALLENGE)
