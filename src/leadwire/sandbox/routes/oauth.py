"""OAuth: the authorize page (`/oauth/`) and the token endpoint (`POST /v5/oauth/token`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.sandbox import oauth
from leadwire.sandbox.deps import ReadDb, Runtime, WriteDb
from leadwire.sandbox.errors import invalid
from leadwire.sandbox.ids import is_digits
from leadwire.sandbox.models import App, UserAccount
from leadwire.sandbox.routes import API_PREFIX, api_router

router = api_router(prefix=API_PREFIX, tags=["oauth"])
page_router = APIRouter(tags=["oauth"])
templates = Jinja2Templates(directory=Path(__file__).parent.parent / "templates")
OptionalForm = Annotated[str | None, Form()]
MAX_USERS_SHOWN = 200


@router.post("/oauth/token", operation_id="oauth/token")
def token(
    db: WriteDb,
    rt: Runtime,
    authorization: Annotated[str | None, Header()] = None,
    grant_type: OptionalForm = None,
    code: OptionalForm = None,
    redirect_uri: OptionalForm = None,
    code_verifier: OptionalForm = None,
    refresh_token: OptionalForm = None,
    scope: OptionalForm = None,
    continuous_refresh: OptionalForm = None,
) -> dict[str, Any]:
    """Exchange a code, rotate a refresh token, or issue a client token (HTTP Basic client auth).

    `continuous_refresh` is accepted and needs no effect: every refresh token here is
    continuous (refreshable indefinitely, each one valid for the refresh TTL).
    """
    app = oauth.authenticate_client(db, authorization)
    settings = rt.settings
    if grant_type == oauth.GrantType.AUTHORIZATION_CODE:
        if not code or not redirect_uri:
            raise invalid(1, "Invalid parameters: code and redirect_uri are required.")
        body = oauth.exchange_code(
            db, settings, app, code=code, redirect_uri=redirect_uri, code_verifier=code_verifier
        )
    elif grant_type == oauth.GrantType.REFRESH_TOKEN:
        if not refresh_token:
            raise invalid(1, "Invalid parameters: refresh_token is required.")
        body = oauth.refresh(db, settings, app, refresh_token=refresh_token, scope=scope)
    elif grant_type == oauth.GrantType.CLIENT_CREDENTIALS:
        if not scope:
            raise invalid(1, "Invalid parameters: scope is required.")
        body = oauth.client_credentials(db, settings, app, scope=scope)
    else:
        raise invalid(
            1,
            "Invalid parameters: grant_type must be authorization_code, refresh_token or "
            "client_credentials.",
        )
    db.commit()
    return body


def _redirect(redirect_uri: str, params: dict[str, str]) -> RedirectResponse:
    parts = urlsplit(redirect_uri)
    query = "&".join(q for q in (parts.query, urlencode(params)) if q)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), status_code=302)


def _error_page(request: Request, message: str) -> HTMLResponse:
    return templates.TemplateResponse(
        request, "authorize.html", {"error": message}, status_code=400
    )


def _check(
    db: Session, client_id: str | None, redirect_uri: str | None
) -> tuple[App | None, str | None]:
    app = db.get(App, client_id) if client_id and is_digits(client_id) else None
    if app is None:
        return None, "Unknown client_id: no sandbox app has this id."
    if not redirect_uri or not oauth.redirect_allowed(app, redirect_uri):
        return None, "redirect_uri is missing or not registered for this app."
    return app, None


@page_router.get("/oauth/", include_in_schema=False)
@page_router.get("/oauth", include_in_schema=False)
def authorize_page(
    request: Request,
    db: ReadDb,
    client_id: str | None = None,
    redirect_uri: str | None = None,
    response_type: str | None = None,
    scope: str | None = None,
    state: str | None = None,
    code_challenge: str | None = None,
    code_challenge_method: str | None = None,
) -> Response:
    """Show the consent page: which app, which scopes, which sandbox user approves."""
    app, error = _check(db, client_id, redirect_uri)
    if app is None or redirect_uri is None:
        return _error_page(request, error or "")
    back = {"state": state} if state else {}
    if response_type != "code":
        return _redirect(redirect_uri, {"error": "unsupported_response_type", **back})
    try:
        scopes = oauth.parse_scopes(scope or "")
    except ValueError:
        return _redirect(redirect_uri, {"error": "invalid_scope", **back})
    if code_challenge and (code_challenge_method or "plain") not in ("S256", "plain"):
        return _redirect(redirect_uri, {"error": "invalid_request", **back})
    users = db.scalars(select(UserAccount).order_by(UserAccount.username).limit(MAX_USERS_SHOWN))
    return templates.TemplateResponse(
        request,
        "authorize.html",
        {
            "app": app,
            "scopes": scopes,
            "users": list(users),
            "fields": {
                "client_id": app.id,
                "redirect_uri": redirect_uri,
                "scope": ",".join(scopes),
                "state": state or "",
                "code_challenge": code_challenge or "",
                "code_challenge_method": code_challenge_method or "",
            },
        },
    )


@page_router.post("/oauth/", include_in_schema=False)
@page_router.post("/oauth", include_in_schema=False)
def authorize_decision(
    request: Request,
    db: WriteDb,
    decision: Annotated[str, Form()],
    client_id: OptionalForm = None,
    redirect_uri: OptionalForm = None,
    scope: OptionalForm = None,
    state: OptionalForm = None,
    user_id: OptionalForm = None,
    code_challenge: OptionalForm = None,
    code_challenge_method: OptionalForm = None,
) -> Response:
    """Approve (302 to redirect_uri with a code and the state) or deny (with an error)."""
    app, error = _check(db, client_id, redirect_uri)
    if app is None or redirect_uri is None:
        return _error_page(request, error or "")
    back = {"state": state} if state else {}
    if decision != "approve":
        return _redirect(redirect_uri, {"error": "access_denied", **back})
    user = db.get(UserAccount, user_id) if user_id else None
    if user is None:
        return _error_page(request, "Choose the sandbox user who approves.")
    try:
        scopes = oauth.parse_scopes(scope or "")
    except ValueError:
        return _redirect(redirect_uri, {"error": "invalid_scope", **back})
    code = oauth.issue_code(
        db,
        app,
        user.id,
        redirect_uri=redirect_uri,
        scopes=scopes,
        code_challenge=code_challenge or None,
        code_challenge_method=code_challenge_method or None,
    )
    db.commit()
    return _redirect(redirect_uri, {"code": code, **back})
