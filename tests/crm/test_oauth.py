"""OAuth 2.0 of the embedded CRM over real HTTP: consent page, code + PKCE, rotation, revocation."""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import update
from typer.testing import CliRunner

from leadwire.cli.crm_oauth import app as oauth_cli
from leadwire.crm import admin
from leadwire.crm.app import create_app
from leadwire.crm.auth.clients import create_oauth_client, list_oauth_clients
from leadwire.crm.auth.principal import READ, WRITE
from leadwire.crm.models import Location, OAuthCode, utcnow
from leadwire.crm.store import open_store
from tests.conftest import make_settings
from tests.crm.conftest import VERSION, CrmServer, Tenant, new_tenant
from tests.servers import running

REDIRECT = "http://127.0.0.1:9/callback"


@dataclass
class App:
    """A registered OAuth client and the tenant whose company it belongs to."""

    tenant: Tenant
    id: str
    secret: str

    @property
    def url(self) -> str:
        return self.tenant.url


def register(tenant: Tenant, scopes: tuple[str, ...] = (READ, WRITE)) -> App:
    """Register an OAuth client for the tenant's company."""
    with tenant.server.store.sessions() as session:
        company = session.get(Location, tenant.location_id)
        assert company is not None
        issued = create_oauth_client(session, "Test app", [REDIRECT], scopes, company.company_id)
        session.commit()
    return App(tenant, issued.id, issued.secret)


def pkce() -> tuple[str, str]:
    """Return a PKCE verifier and its S256 challenge (RFC 7636 §4.2)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def consent_query(app: App, **overrides: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": app.id,
        "redirect_uri": REDIRECT,
        "scope": f"{READ} {WRITE}",
        "state": "st-123",
    }
    query.update(overrides)
    return {k: v for k, v in query.items() if v}


def approve(
    app: App, challenge: str | None, *, path: str = "/oauth/chooselocation", **overrides: str
) -> httpx.Response:
    """Open the consent page, then approve the tenant's location; return the (302) answer."""
    query = consent_query(app, **overrides)
    if challenge is not None:
        query |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = httpx.get(f"{app.url}{path}", params=query, timeout=10)
    assert page.status_code == 200, page.text
    assert app.tenant.location_id in page.text
    return httpx.post(
        str(page.url),
        data={"locationId": app.tenant.location_id, "decision": "approve"},
        timeout=10,
    )


def code_of(answer: httpx.Response) -> str:
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT
    params = parse_qs(location.query)
    assert params["state"] == ["st-123"]
    return params["code"][0]


def exchange(app: App, code: str, verifier: str | None, **extra: str) -> httpx.Response:
    data = {
        "client_id": app.id,
        "client_secret": app.secret,
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        **({"code_verifier": verifier} if verifier else {}),
    }
    data.update(extra)
    return httpx.post(f"{app.url}/oauth/token", data=data, timeout=10)


def tokens(app: App, scope: str = f"{READ} {WRITE}") -> dict[str, str]:
    """Run the whole flow; return the token response."""
    verifier, challenge = pkce()
    answer = exchange(app, code_of(approve(app, challenge, scope=scope)), verifier)
    assert answer.status_code == 200, answer.text
    body: dict[str, str] = answer.json()
    return body


def refresh(app: App, refresh_token: str) -> httpx.Response:
    data = {
        "client_id": app.id,
        "client_secret": app.secret,
        "grant_type": "refresh_token",
        "refresh_token": refresh_token,
    }
    return httpx.post(f"{app.url}/oauth/token", data=data, timeout=10)


def bearer(tenant: Tenant, token: str) -> httpx.Client:
    headers = {"Authorization": f"Bearer {token}", **VERSION}
    return httpx.Client(base_url=tenant.url, headers=headers, timeout=10)


def make_contact(tenant: Tenant) -> str:
    with tenant.client() as api:
        answer = api.post("/contacts/", json={"locationId": tenant.location_id, "firstName": "O"})
    assert answer.status_code == 201, answer.text
    contact_id: str = answer.json()["contact"]["id"]
    return contact_id


def get_contact(tenant: Tenant, token: str, contact_id: str) -> httpx.Response:
    with bearer(tenant, token) as client:
        return client.get(f"/contacts/{contact_id}")


def unauthorized(answer: httpx.Response, words: str) -> None:
    assert answer.status_code == 401, answer.text
    body = answer.json()
    assert body["error"] == "UnAuthorized!"
    assert words in body["error_description"]


def refused(answer: httpx.Response, status: int, error: str, words: str = "") -> None:
    assert answer.status_code == status, answer.text
    body = answer.json()
    assert body["error"] == error
    assert words in body.get("error_description", "")


@pytest.fixture
def app(tenant: Tenant) -> App:
    return register(tenant)


@pytest.mark.parametrize("path", ["/oauth/chooselocation", "/v2/oauth/chooselocation"])
def test_pkce_flow_gives_a_token_that_reads_contacts(app: App, path: str) -> None:
    contact_id = make_contact(app.tenant)
    verifier, challenge = pkce()
    answer = exchange(app, code_of(approve(app, challenge, path=path)), verifier)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    body = answer.json()
    with app.tenant.server.store.read_sessions() as session:
        location = session.get(Location, app.tenant.location_id)
        assert location is not None
        company_id = location.company_id
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86399
    assert body["scope"] == f"{READ} {WRITE}"
    assert body["userType"] == "Location"
    assert body["locationId"] == app.tenant.location_id
    assert body["companyId"] == company_id
    assert body["userId"]
    assert body["isBulkInstallation"] is False
    assert body["access_token"] != body["refresh_token"]
    got = get_contact(app.tenant, body["access_token"], contact_id)
    assert got.status_code == 200, got.text
    assert got.json()["contact"]["id"] == contact_id


def test_client_credentials_in_http_basic_work(app: App) -> None:
    verifier, challenge = pkce()
    code = code_of(approve(app, challenge))
    answer = httpx.post(
        f"{app.url}/oauth/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
        auth=(app.id, app.secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text


def test_flow_without_pkce_works_as_highlevels_does(app: App) -> None:
    answer = exchange(app, code_of(approve(app, None)), None)
    assert answer.status_code == 200, answer.text


def test_wrong_or_missing_verifier_is_refused(app: App) -> None:
    verifier, challenge = pkce()
    code = code_of(approve(app, challenge))
    refused(exchange(app, code, pkce()[0]), 400, "invalid_grant", "challenge")
    refused(exchange(app, code, None), 400, "invalid_request", "code_verifier")
    # A failed attempt does not spend the code: its rightful holder can still use it.
    assert exchange(app, code, verifier).status_code == 200


def test_verifier_for_a_code_issued_without_challenge_is_refused(app: App) -> None:
    code = code_of(approve(app, None))
    refused(exchange(app, code, pkce()[0]), 400, "invalid_request", "code_challenge")


def test_reused_code_is_refused_and_revokes_its_tokens(app: App) -> None:
    contact_id = make_contact(app.tenant)
    verifier, challenge = pkce()
    code = code_of(approve(app, challenge))
    first = exchange(app, code, verifier).json()
    assert get_contact(app.tenant, first["access_token"], contact_id).status_code == 200
    unauthorized(exchange(app, code, verifier), "already used")
    revoked = get_contact(app.tenant, first["access_token"], contact_id)
    assert revoked.status_code == 401
    assert "revoked" in revoked.json()["message"]
    refused(refresh(app, first["refresh_token"]), 400, "invalid_grant", "revoked")


def test_wrong_redirect_uri_is_refused(app: App) -> None:
    verifier, challenge = pkce()
    code = code_of(approve(app, challenge))
    answer = exchange(app, code, verifier, redirect_uri="http://127.0.0.1:9/other")
    refused(answer, 400, "invalid_grant", "redirect_uri")


def test_expired_code_is_refused(app: App) -> None:
    verifier, challenge = pkce()
    code = code_of(approve(app, challenge))
    with app.tenant.server.store.sessions() as session:
        session.execute(
            update(OAuthCode)
            .where(OAuthCode.client_id == app.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    unauthorized(exchange(app, code, verifier), "expired")


def test_unknown_code_and_bad_client_get_highlevels_401(app: App) -> None:
    verifier, challenge = pkce()
    code = code_of(approve(app, challenge))
    unauthorized(exchange(app, "not-a-code", verifier), "Authorization code not found")
    bad_secret = exchange(app, code, verifier, client_secret="wrong")
    unauthorized(bad_secret, "Client authentication failed")
    assert bad_secret.headers["www-authenticate"].startswith("Basic")
    unauthorized(exchange(app, code, verifier, client_id="nobody"), "Client authentication")
    # Another client of the same company cannot redeem this client's code.
    other = register(app.tenant)
    unauthorized(exchange(other, code, verifier), "Authorization code not found")
    assert exchange(app, code, verifier).status_code == 200


def test_refresh_rotates_and_replaying_a_spent_token_revokes_the_family(app: App) -> None:
    contact_id = make_contact(app.tenant)
    first = tokens(app)
    answer = refresh(app, first["refresh_token"])
    assert answer.status_code == 200, answer.text
    second = answer.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert second["locationId"] == app.tenant.location_id
    assert get_contact(app.tenant, second["access_token"], contact_id).status_code == 200
    third = refresh(app, second["refresh_token"]).json()
    # The spent refresh token is refused, and its replay revokes every token of the grant.
    refused(refresh(app, first["refresh_token"]), 400, "invalid_grant", "already used")
    refused(refresh(app, third["refresh_token"]), 400, "invalid_grant", "revoked")
    for token in (first, second, third):
        answer = get_contact(app.tenant, token["access_token"], contact_id)
        assert answer.status_code == 401, token
        assert "revoked" in answer.json()["message"]


def test_concurrent_refreshes_with_one_token_are_a_replay(app: App) -> None:
    contact_id = make_contact(app.tenant)
    first = tokens(app)
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: refresh(app, first["refresh_token"]), range(4)))
    winners = [a for a in answers if a.status_code == 200]
    assert len(winners) == 1, [a.text for a in answers]
    for loser in answers:
        if loser is not winners[0]:
            refused(loser, 400, "invalid_grant")
    # Two parties held the token: the grant is revoked, the winner's new tokens included.
    won = winners[0].json()
    assert get_contact(app.tenant, won["access_token"], contact_id).status_code == 401
    refused(refresh(app, won["refresh_token"]), 400, "invalid_grant", "revoked")


def test_refresh_may_narrow_the_scope_but_not_widen_it(tenant: Tenant) -> None:
    app = register(tenant, (READ,))
    first = tokens(app, scope=READ)
    refused(refresh(app, "unknown"), 400, "invalid_grant", "Invalid refresh token")
    data = {"scope": f"{READ} {WRITE}"}
    answer = httpx.post(
        f"{app.url}/oauth/token",
        data={"grant_type": "refresh_token", "refresh_token": first["refresh_token"], **data},
        auth=(app.id, app.secret),
        timeout=10,
    )
    refused(answer, 400, "invalid_scope")


def test_read_only_token_cannot_write(tenant: Tenant) -> None:
    app = register(tenant)
    token = tokens(app, scope=READ)
    assert token["scope"] == READ
    with bearer(tenant, token["access_token"]) as client:
        answer = client.post("/contacts/", json={"locationId": tenant.location_id})
    assert answer.status_code == 401
    assert "not authorized for this scope" in answer.json()["message"]


def test_revoked_access_token_is_refused_at_once(app: App) -> None:
    contact_id = make_contact(app.tenant)
    token = tokens(app)
    assert get_contact(app.tenant, token["access_token"], contact_id).status_code == 200
    data = {"token": token["access_token"], "client_id": app.id, "client_secret": app.secret}
    answer = httpx.post(f"{app.url}/oauth/revoke", data=data, timeout=10)
    assert answer.status_code == 200, answer.text
    refused_now = get_contact(app.tenant, token["access_token"], contact_id)
    assert refused_now.status_code == 401
    assert refused_now.json()["message"] == "Invalid token: access token was revoked"
    # Its refresh token went with it.
    refused(refresh(app, token["refresh_token"]), 400, "invalid_grant", "revoked")


def test_revoking_a_refresh_token_revokes_the_whole_grant(app: App) -> None:
    contact_id = make_contact(app.tenant)
    first = tokens(app)
    second = refresh(app, first["refresh_token"]).json()
    answer = httpx.post(
        f"{app.url}/oauth/revoke",
        data={"token": second["refresh_token"], "token_type_hint": "refresh_token"},
        auth=(app.id, app.secret),
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    for token in (first, second):
        assert get_contact(app.tenant, token["access_token"], contact_id).status_code == 401


def test_revocation_needs_the_client_and_ignores_unknown_tokens(app: App) -> None:
    token = tokens(app)
    unknown = httpx.post(
        f"{app.url}/oauth/revoke", data={"token": "nope"}, auth=(app.id, app.secret), timeout=10
    )
    assert unknown.status_code == 200
    anonymous = httpx.post(f"{app.url}/oauth/revoke", data={"token": token["access_token"]})
    unauthorized(anonymous, "Client authentication failed")
    other = register(app.tenant)
    foreign = httpx.post(
        f"{app.url}/oauth/revoke",
        data={"token": token["access_token"]},
        auth=(other.id, other.secret),
        timeout=10,
    )
    refused(foreign, 400, "invalid_grant")


def test_token_endpoint_takes_only_forms(app: App) -> None:
    body = {"client_id": app.id, "client_secret": app.secret, "grant_type": "refresh_token"}
    as_json = httpx.post(f"{app.url}/oauth/token", json=body, timeout=10)
    refused(as_json, 400, "invalid_request", "application/x-www-form-urlencoded")
    assert "application/json" in as_json.json()["error_description"]
    as_json = httpx.post(f"{app.url}/oauth/revoke", json={"token": "x"}, timeout=10)
    refused(as_json, 400, "invalid_request", "application/x-www-form-urlencoded")


def test_token_endpoint_names_what_is_wrong(app: App) -> None:
    creds = {"client_id": app.id, "client_secret": app.secret}
    post = lambda data: httpx.post(f"{app.url}/oauth/token", data=data, timeout=10)  # noqa: E731
    refused(post(creds), 400, "invalid_request", "grant_type")
    refused(post({**creds, "grant_type": "client_credentials"}), 400, "unsupported_grant_type")
    company = post({**creds, "grant_type": "refresh_token", "user_type": "Company"})
    refused(company, 400, "invalid_request", "Location tokens")
    refused(post({**creds, "grant_type": "refresh_token"}), 400, "invalid_request")


def test_odd_characters_in_parameters_are_not_a_500(app: App) -> None:
    odd = 'x"\\ñ'
    page = httpx.get(
        f"{app.url}/oauth/chooselocation",
        params=consent_query(app, redirect_uri=f"http://127.0.0.1:9/{odd}"),
        timeout=10,
    )
    assert page.status_code == 400
    assert "malformed" in page.text
    scope = _consent_error(app, scope=odd)
    assert scope["error"] == ["invalid_scope"]
    creds = {"client_id": app.id, "client_secret": app.secret}
    for data, error in (
        ({**creds, "grant_type": odd}, "unsupported_grant_type"),
        ({"grant_type": "refresh_token", "user_type": odd}, "invalid_request"),
    ):
        answer = httpx.post(f"{app.url}/oauth/token", data=data, timeout=10)
        refused(answer, 400, error, "x???")
    typed = httpx.post(
        f"{app.url}/oauth/token", content=b"a=1", headers={"content-type": 'x"\\'}, timeout=10
    )
    refused(typed, 400, "invalid_request", "not x??")
    # PostgreSQL cannot even compare a string holding NUL: refused before any look-up.
    nul = {**creds, "grant_type": "refresh_token", "client_id": "a\x00"}
    refused(httpx.post(f"{app.url}/oauth/token", data=nul), 400, "invalid_request", "NUL")
    page = httpx.get(
        f"{app.url}/oauth/chooselocation", params=consent_query(app, client_id="a\x00")
    )
    assert page.status_code == 400
    assert "NUL" in page.text


def _consent_error(app: App, **overrides: str) -> dict[str, list[str]]:
    answer = httpx.get(
        f"{app.url}/oauth/chooselocation", params=consent_query(app, **overrides), timeout=10
    )
    assert answer.status_code == 302, answer.text
    location = urlsplit(answer.headers["location"])
    assert location.geturl().startswith(REDIRECT)
    params = parse_qs(location.query)
    assert params["state"] == ["st-123"]
    assert "code" not in params
    return params


def test_consent_errors_go_back_to_a_known_redirect_uri(tenant: Tenant) -> None:
    app = register(tenant, (READ,))
    assert _consent_error(app, scope="contacts.delete")["error"] == ["invalid_scope"]
    beyond = _consent_error(app, scope=f"{READ} {WRITE}")
    assert beyond["error"] == ["invalid_scope"]
    assert WRITE in beyond["error_description"][0]
    assert _consent_error(app, response_type="token")["error"] == ["unsupported_response_type"]
    plain = _consent_error(app, scope=READ, code_challenge="a" * 43, code_challenge_method="plain")
    assert plain["error"] == ["invalid_request"]


def test_consent_errors_without_a_trusted_redirect_are_shown_on_a_page(app: App) -> None:
    for overrides, words in (
        ({"client_id": "nobody"}, "does not exist"),
        ({"redirect_uri": "https://evil.example/cb"}, "not supported by client"),
    ):
        answer = httpx.get(
            f"{app.url}/oauth/chooselocation", params=consent_query(app, **overrides), timeout=10
        )
        assert answer.status_code == 400
        assert answer.headers["content-type"].startswith("text/html")
        assert "location" not in answer.headers
        assert words in answer.text


def test_denying_redirects_with_access_denied(app: App) -> None:
    page = httpx.get(f"{app.url}/oauth/chooselocation", params=consent_query(app), timeout=10)
    assert page.headers["x-frame-options"] == "DENY"
    answer = httpx.post(str(page.url), data={"decision": "deny"}, timeout=10)
    assert answer.status_code == 302
    params = parse_qs(urlsplit(answer.headers["location"]).query)
    assert params["error"] == ["access_denied"]
    assert params["state"] == ["st-123"]


def test_approval_must_name_a_location_of_the_apps_company(app: App) -> None:
    page = httpx.get(f"{app.url}/oauth/chooselocation", params=consent_query(app), timeout=10)
    stranger = new_tenant(app.tenant.server)
    answer = httpx.post(
        str(page.url), data={"locationId": stranger.location_id, "decision": "approve"}
    )
    assert answer.status_code == 400
    assert "Choose one of the locations listed" in answer.text
    assert stranger.location_id not in page.text


def test_approval_posted_from_another_site_is_refused(app: App) -> None:
    page = httpx.get(f"{app.url}/oauth/chooselocation", params=consent_query(app), timeout=10)
    answer = httpx.post(
        str(page.url),
        data={"locationId": app.tenant.location_id, "decision": "approve"},
        headers={"Origin": "https://evil.example"},
        timeout=10,
    )
    assert answer.status_code == 403
    assert "location" not in answer.headers


def test_plain_http_off_loopback_is_refused(app: App) -> None:
    elsewhere = {"Host": "crm.example:8410"}
    data = {"client_id": app.id, "client_secret": app.secret, "grant_type": "refresh_token"}
    answer = httpx.post(f"{app.url}/oauth/token", data=data, headers=elsewhere, timeout=10)
    refused(answer, 400, "insecure_transport", "https")
    page = httpx.get(
        f"{app.url}/oauth/chooselocation",
        params=consent_query(app),
        headers=elsewhere,
        timeout=10,
    )
    assert page.status_code == 400
    assert "needs https" in page.text


@pytest.fixture
def short_lived(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Tenant]:
    """A CRM of its own whose access tokens live one second."""
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    settings = make_settings(tmp_path, crm_access_token_ttl_s=1)
    store = open_store(settings, url=url)
    with running(create_app(settings, store=store)) as base:
        yield new_tenant(CrmServer(base, store))
    store.engine.dispose()


def test_expired_access_token_is_refused_with_a_clear_message(short_lived: Tenant) -> None:
    app = register(short_lived)
    contact_id = make_contact(short_lived)
    token = tokens(app)
    issued = time.monotonic()
    assert token["expires_in"] == 1
    # Used once while fresh, so the gate has it cached: expiry must still win over the cache.
    assert get_contact(short_lived, token["access_token"], contact_id).status_code == 200
    time.sleep(max(0.0, issued + 1.1 - time.monotonic()))
    answer = get_contact(short_lived, token["access_token"], contact_id)
    assert answer.status_code == 401
    assert "expired" in answer.json()["message"]
    renewed = refresh(app, token["refresh_token"]).json()
    assert get_contact(short_lived, renewed["access_token"], contact_id).status_code == 200


def test_create_oauth_client_checks_its_input(crm_server: CrmServer) -> None:
    tenant = new_tenant(crm_server)
    with crm_server.store.sessions() as session:
        location = session.get(Location, tenant.location_id)
        assert location is not None
        company = location.company_id
        for args, words in (
            (([REDIRECT], ("contacts.delete",), company), "unknown scope"),
            ((["ftp://x/cb"], (READ,), company), "absolute http"),
            ((["http://x/cb#frag"], (READ,), company), "fragment"),
            (([], (READ,), company), "redirect URI"),
            (([REDIRECT], (READ,), "no-such-company"), "no location"),
        ):
            with pytest.raises(ValueError, match=words):
                create_oauth_client(session, "app", *args)  # type: ignore[arg-type]
    app = register(tenant)
    with crm_server.store.read_sessions() as session:
        listed = {c.id: c for c in list_oauth_clients(session)}
    assert listed[app.id].scopes == (READ, WRITE)
    assert listed[app.id].redirect_uris == (REDIRECT,)


def test_cli_creates_and_lists_clients(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    store = open_store(settings)
    with store.sessions() as session:
        location = admin.create_location(session, "cli")
        session.commit()
        location_id = location.id
    store.engine.dispose()
    runner = CliRunner()
    for args in ([], ["create"], ["list"]):
        shown = runner.invoke(oauth_cli, [*args, "--help"], obj=settings)
        assert shown.exit_code == 0, shown.output
    created = runner.invoke(
        oauth_cli,
        ["create", "--name", "n8n", "--location", location_id, "--redirect-uri", REDIRECT],
        obj=settings,
    )
    assert created.exit_code == 0, created.output
    secret = created.output.strip().splitlines()[-1]
    listed = runner.invoke(oauth_cli, ["list"], obj=settings)
    assert listed.exit_code == 0, listed.output
    assert "n8n" in listed.output
    assert secret not in listed.output
    bad = runner.invoke(
        oauth_cli,
        ["create", "--name", "x", "--location", "nope", "--redirect-uri", REDIRECT],
        obj=settings,
    )
    assert bad.exit_code != 0
