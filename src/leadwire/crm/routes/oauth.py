"""OAuth 2.0 endpoints of the CRM: the consent page, the token endpoint, revocation.

Paths are HighLevel's: the marketplace's `/oauth/chooselocation` (and `/v2/...`, the URL its
docs now give) where a user picks the location to install an app on, and
`POST /oauth/token`, form-encoded, client credentials in the body (n8n sends them there) or
in HTTP Basic. `POST /oauth/revoke` is RFC 7009's, our extension.

There is no user login: the embedded CRM trusts whoever reaches it (it listens on 127.0.0.1),
so whoever opens the consent page may approve it. Approvals posted from another site's page
are refused (Origin / Sec-Fetch-Site), so a web page cannot approve in the user's stead.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import (
    InsecureTransportError,
    InvalidRequestError,
    OAuth2Error,
    UnsupportedGrantTypeError,
)
from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.auth.oauth_grants import GRANT_TYPES, CodeGrant, Grantee, owner_of
from leadwire.crm.auth.oauth_http import (
    FORM,
    CrmOAuth2Request,
    FormRequest,
    printable,
    read_form,
    to_response,
)
from leadwire.crm.auth.oauth_server import CrmAuthorizationServer
from leadwire.crm.auth.principal import READ, WRITE
from leadwire.crm.deps import ReadDb, Runtime, WriteDb
from leadwire.crm.models import Location
from leadwire.crm.runtime import CrmRuntime

router = APIRouter(tags=["OAuth"])

Form = Annotated[FormRequest, Depends(read_form)]
CHOOSE_PATHS = ("/oauth/chooselocation", "/v2/oauth/chooselocation")
SCOPE_TEXT = {
    READ: "Read contacts and their tasks, notes and appointments",
    WRITE: "Create, change and delete contacts, their tags, tasks and notes",
}
# Authlib's rule (RFC 6749 §3.1, RFC 8252 §7.3): plain http only on a loopback address.
INSECURE = (
    "OAuth 2.0 needs https: put this CRM behind TLS (and let it see X-Forwarded-Proto), "
    "or reach it on a loopback address such as 127.0.0.1"
)
# The consent page must not be framed (clickjacking) nor cached, and loads nothing.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",
}

_templates = Environment(
    loader=PackageLoader("leadwire.crm", "templates"),
    autoescape=select_autoescape(["html"]),
)


def _page(name: str, status: int, **values: object) -> HTMLResponse:
    html = _templates.get_template(name).render(**values)
    return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)


def _error_page(status: int, title: str, detail: str, error: str | None = None) -> HTMLResponse:
    return _page("oauth_error.html", status, title=title, detail=detail, error=error)


def _consent_request(server: CrmAuthorizationServer, form: FormRequest) -> CodeGrant | Response:
    """Return the validated grant, or the answer to give: a redirect with `error=` when the
    client and redirect URI are known (RFC 6749 §4.1.2.1), else an error page."""
    problem = form.malformed()
    if problem is not None:
        return _error_page(400, "This app cannot be authorized", problem, "invalid_request")
    try:
        grant: CodeGrant = server.get_consent_grant(CrmOAuth2Request(form, form.query))
    except InsecureTransportError:
        return _error_page(400, "This app cannot be authorized", INSECURE, "insecure_transport")
    except ValueError:
        # Authlib quotes some parameters into its error descriptions and refuses to build
        # one around characters RFC 6749 forbids there: the request itself is malformed.
        detail = "The authorization link has malformed parameters (redirect_uri, scope...)."
        return _error_page(400, "This app cannot be authorized", detail, "invalid_request")
    except OAuth2Error as error:
        if error.redirect_uri:
            status, _, headers = error()
            return Response(status_code=status, headers=dict(headers))
        return _error_page(
            400, "This app cannot be authorized", error.description or error.error, error.error
        )
    return grant


def _locations(db: Session, company_id: str) -> list[Location]:
    query = select(Location).where(Location.company_id == company_id)
    return list(db.scalars(query.order_by(Location.name, Location.id)))


def _choose_page(
    form: FormRequest, grant: CodeGrant, db: Session, status: int = 200, problem: str | None = None
) -> HTMLResponse:
    client = grant.client.row
    locations = _locations(db, client.company_id)
    if not locations:
        return _error_page(400, "No location to install on", "The app's company has none.")
    scopes = grant.request.scope.split()
    redirect = grant.redirect_uri
    query = urlsplit(form.url).query
    return _page(
        "oauth_choose_location.html",
        status,
        app_name=client.name,
        scopes=[(s, SCOPE_TEXT.get(s, s)) for s in scopes],
        redirect_host=urlsplit(redirect).netloc,
        locations=locations,
        action=f"{urlsplit(form.url).path}?{query}",
        problem=problem,
    )


@router.get(CHOOSE_PATHS[0], operation_id="choose-location", response_class=HTMLResponse)
@router.get(CHOOSE_PATHS[1], include_in_schema=False, response_class=HTMLResponse)
def choose_location(form: Form, db: ReadDb, rt: Runtime) -> Response:
    """Show the consent page: the app, the scopes it asks for, the locations to install on."""
    server = CrmAuthorizationServer(db, rt.settings)
    grant = _consent_request(server, form)
    if isinstance(grant, Response):
        return grant
    return _choose_page(form, grant, db)


def _is_cross_site(form: FormRequest) -> bool:
    if form.headers.get("sec-fetch-site", "") == "cross-site":
        return True
    origin = form.headers.get("origin")
    if origin is None:
        return False
    own = urlsplit(form.url)
    return origin != f"{own.scheme}://{own.netloc}"


@router.post(CHOOSE_PATHS[0], operation_id="approve-location", response_class=HTMLResponse)
@router.post(CHOOSE_PATHS[1], include_in_schema=False, response_class=HTMLResponse)
def approve_location(form: Form, db: WriteDb, rt: Runtime) -> Response:
    """Approve (302 to `redirect_uri?code=...&state=...`) or deny (`error=access_denied`)."""
    if not form.is_form:
        return _error_page(400, "Bad approval", f"Post the consent form as {FORM}.")
    if _is_cross_site(form):
        return _error_page(403, "Approval refused", "An approval must come from this page.")
    server = CrmAuthorizationServer(db, rt.settings)
    grant = _consent_request(server, form)
    if isinstance(grant, Response):
        return grant
    decision = form.field("decision")
    if decision not in ("approve", "deny"):
        return _choose_page(form, grant, db, 400, "Choose Approve or Deny.")
    grantee = None
    if decision == "approve":
        location = db.get(Location, form.field("locationId") or "")
        if location is None or location.company_id != grant.client.row.company_id:
            return _choose_page(form, grant, db, 400, "Choose one of the locations listed.")
        grantee = Grantee(location.id, location.company_id, owner_of(db, location.id))
    # Without a grantee Authlib answers RFC 6749's `error=access_denied` redirect.
    response: Response = server.create_authorization_response(grant.request, grantee, grant)
    db.commit()
    return response


def _invalid(server: CrmAuthorizationServer, message: str) -> Response:
    response: Response = server.handle_error_response(None, InvalidRequestError(message))
    return response


def _form_error(server: CrmAuthorizationServer, form: FormRequest) -> Response | None:
    problem = form.malformed()
    if problem is not None:
        return _invalid(server, problem)
    if not form.is_form:
        got = printable(form.content_type) or "no Content-Type"
        return _invalid(server, f"Send the parameters as {FORM} (as HighLevel does), not {got}")
    return None


def _finish(db: Session, server: CrmAuthorizationServer, rt: CrmRuntime) -> None:
    # Commit even after an error: a detected replay revokes tokens and that must stick. Only
    # then forget cached principals, or a request in between could cache the old answer.
    db.commit()
    if server.revoked:
        rt.resolver.forget_all()


def _oauth_request(form: FormRequest) -> CrmOAuth2Request | Response:
    try:
        return CrmOAuth2Request(form, form.body)
    except InsecureTransportError as error:
        error.description = INSECURE
        return to_response(*error())


@router.post("/oauth/token", operation_id="get-access-token")
def get_access_token(form: Form, db: WriteDb, rt: Runtime) -> Response:
    """Exchange an authorization code (with its PKCE verifier) or a refresh token for tokens."""
    server = CrmAuthorizationServer(db, rt.settings)
    refused = _form_error(server, form)
    if refused is not None:
        return refused
    user_type = form.field("user_type")
    if user_type not in (None, "", "Location"):
        message = f"user_type {printable(user_type or '')} is not supported: this CRM issues "
        return _invalid(server, message + "Location tokens")
    grant_type = form.field("grant_type")
    if not grant_type:
        return _invalid(server, "Missing grant_type: authorization_code or refresh_token")
    if grant_type not in GRANT_TYPES:
        error = UnsupportedGrantTypeError(grant_type)
        error.description = (
            f"grant_type {printable(grant_type)} is not supported: "
            "use authorization_code or refresh_token"
        )
        response: Response = server.handle_error_response(None, error)
        return response
    request = _oauth_request(form)
    if isinstance(request, Response):
        return request
    answer: Response = server.create_token_response(request)
    _finish(db, server, rt)
    return answer


@router.post("/oauth/revoke", operation_id="revoke-token")
def revoke_token(form: Form, db: WriteDb, rt: Runtime) -> Response:
    """Revoke an access or refresh token (RFC 7009); 200 even if it was unknown."""
    server = CrmAuthorizationServer(db, rt.settings)
    refused = _form_error(server, form)
    if refused is not None:
        return refused
    request = _oauth_request(form)
    if isinstance(request, Response):
        return request
    response: Response = server.create_endpoint_response("revocation", request)
    _finish(db, server, rt)
    return response
