"""OAuth: authorize page with state and PKCE, code exchange, refresh rotation, client tokens,
bad grants, expiry, scopes."""

from __future__ import annotations

import base64
import hashlib
import secrets
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
from sqlalchemy import update

from leadwire.sandbox.keys import hash_secret
from leadwire.sandbox.models import Token, utcnow
from tests.sandbox.conftest import Tenant

REDIRECT = "http://127.0.0.1:9/callback?from=sandbox"


def _basic(tenant: Tenant, secret: str | None = None) -> dict[str, str]:
    pair = f"{tenant.app_id}:{secret or tenant.app_secret}".encode()
    return {"Authorization": "Basic " + base64.b64encode(pair).decode()}


def _token(tenant: Tenant, data: dict[str, str], secret: str | None = None) -> httpx.Response:
    return httpx.post(f"{tenant.url}/v5/oauth/token", data=data, headers=_basic(tenant, secret))


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _authorize(tenant: Tenant, challenge: str | None, scope: str = "ads:read,ads:write") -> str:
    """Walk the authorize page as a user would; return the code from the redirect."""
    params = {
        "client_id": tenant.app_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": scope,
        "state": "s-123",
    }
    if challenge:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    page = httpx.get(f"{tenant.url}/oauth/", params=params)
    assert page.status_code == 200, page.text
    assert "test app" in page.text
    assert tenant.user_id in page.text
    form = {
        "decision": "approve",
        "user_id": tenant.user_id,
        "client_id": tenant.app_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "s-123",
        "code_challenge": challenge or "",
        "code_challenge_method": "S256" if challenge else "",
    }
    approved = httpx.post(f"{tenant.url}/oauth/", data=form)
    assert approved.status_code == 302, approved.text
    location = urlsplit(approved.headers["location"])
    assert location.path == "/callback"
    query = parse_qs(location.query)
    assert query["state"] == ["s-123"]
    assert query["from"] == ["sandbox"]
    return query["code"][0]


def test_full_flow_with_pkce_then_refresh_rotation(tenant: Tenant) -> None:
    verifier, challenge = _pkce()
    code = _authorize(tenant, challenge)
    answer = _token(
        tenant,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["token_type"] == "bearer"
    assert body["response_type"] == "authorization_code"
    assert body["scope"] == "ads:read,ads:write"
    assert body["access_token"].startswith("pina_")
    assert body["refresh_token"].startswith("pinr_")
    assert body["expires_in"] > 0
    assert body["refresh_token_expires_in"] > body["expires_in"] - 1
    assert body["refresh_token_expires_at"] > 1_700_000_000
    with tenant.client(body["access_token"]) as api:
        assert api.get(f"/ad_accounts/{tenant.ad_account_id}").status_code == 200

    replay = _token(
        tenant,
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
        },
    )
    assert replay.status_code == 400
    assert replay.json() == {"code": 283, "message": "The authorization grant is invalid"}

    rotated = _token(
        tenant,
        {
            "grant_type": "refresh_token",
            "refresh_token": body["refresh_token"],
            "continuous_refresh": "true",
        },
    )
    assert rotated.status_code == 200, rotated.text
    fresh = rotated.json()
    assert fresh["response_type"] == "refresh_token"
    assert fresh["refresh_token"] != body["refresh_token"]
    assert fresh["access_token"] != body["access_token"]
    assert {"refresh_token_expires_in", "refresh_token_expires_at"} <= set(fresh)
    old_again = _token(
        tenant, {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]}
    )
    assert old_again.status_code == 400
    assert old_again.json()["code"] == 283
    narrowed = _token(
        tenant,
        {
            "grant_type": "refresh_token",
            "refresh_token": fresh["refresh_token"],
            "scope": "ads:read",
        },
    )
    assert narrowed.status_code == 200
    assert narrowed.json()["scope"] == "ads:read"


def test_pkce_and_redirect_mismatches_are_bad_grants(tenant: Tenant) -> None:
    verifier, challenge = _pkce()
    for data in (
        {"code_verifier": "x" * 50},
        {"code_verifier": ""},
        {"redirect_uri": "http://127.0.0.1:9/elsewhere", "code_verifier": verifier},
    ):
        code = _authorize(tenant, challenge)
        body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **data}
        answer = _token(tenant, body)
        assert answer.status_code == 400, data
        assert answer.json()["code"] == 283
    plain = _authorize(tenant, None, scope="ads:read ads:write")
    ok = _token(
        tenant, {"grant_type": "authorization_code", "code": plain, "redirect_uri": REDIRECT}
    )
    assert ok.status_code == 200
    assert ok.json()["scope"] == "ads:read,ads:write"
    bogus = _token(
        tenant, {"grant_type": "authorization_code", "code": "nope", "redirect_uri": REDIRECT}
    )
    assert bogus.json() == {"code": 283, "message": "The authorization grant is invalid"}


def test_client_authentication_and_request_errors(tenant: Tenant) -> None:
    wrong = _token(tenant, {"grant_type": "client_credentials", "scope": "ads:read"}, "bad")
    assert wrong.status_code == 401
    assert wrong.json() == {"code": 2, "message": "Authentication failed."}
    anonymous = httpx.post(
        f"{tenant.url}/v5/oauth/token", data={"grant_type": "client_credentials"}
    )
    assert anonymous.status_code == 401
    for data in (
        {},
        {"grant_type": "password"},
        {"grant_type": "authorization_code"},
        {"grant_type": "refresh_token"},
        {"grant_type": "client_credentials"},
        {"grant_type": "client_credentials", "scope": "ads:fly"},
    ):
        answer = _token(tenant, data)
        assert answer.status_code == 400, data
        assert answer.json()["code"] == 1


def test_client_credentials_token_acts_as_the_app_owner_where_allowed(tenant: Tenant) -> None:
    answer = _token(tenant, {"grant_type": "client_credentials", "scope": "ads:read"})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["response_type"] == "client_credentials"
    assert "refresh_token" not in body
    with tenant.client(body["access_token"]) as api:
        assert api.get(f"/ad_accounts/{tenant.ad_account_id}/campaigns").status_code == 200
        user_only = api.get(f"/ad_accounts/{tenant.ad_account_id}/lead_forms")
    assert user_only.status_code == 401
    assert user_only.json()["code"] == 3


def test_authorize_page_errors(tenant: Tenant) -> None:
    base = {
        "client_id": tenant.app_id,
        "redirect_uri": REDIRECT,
        "response_type": "code",
        "scope": "ads:read",
        "state": "st",
    }
    unknown = httpx.get(f"{tenant.url}/oauth/", params={**base, "client_id": "999"})
    assert unknown.status_code == 400
    assert "client_id" in unknown.text
    no_redirect = httpx.get(f"{tenant.url}/oauth/", params={**base, "redirect_uri": "ftp://x"})
    assert no_redirect.status_code == 400
    for change, error in (
        ({"scope": "ads:fly"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ):
        answer = httpx.get(f"{tenant.url}/oauth/", params={**base, **change})
        assert answer.status_code == 302
        query = parse_qs(urlsplit(answer.headers["location"]).query)
        assert query["error"] == [error]
        assert query["state"] == ["st"]
    denied = httpx.post(f"{tenant.url}/oauth/", data={**base, "decision": "deny"})
    assert parse_qs(urlsplit(denied.headers["location"]).query)["error"] == ["access_denied"]


def test_missing_invalid_and_expired_tokens_are_401_code_2(tenant: Tenant) -> None:
    path = f"{tenant.url}/v5/ad_accounts"
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        answer = httpx.get(path, headers=headers)
        assert answer.status_code == 401, headers
        assert answer.json() == {"code": 2, "message": "Authentication failed."}
        assert answer.headers["x-pinterest-rid"]
    with tenant.server.store.sessions() as session:
        session.execute(
            update(Token)
            .where(Token.access_hash == hash_secret(tenant.token))
            .values(access_expires_at=utcnow() - timedelta(seconds=1))
        )
        session.commit()
    with tenant.client() as api:
        expired = api.get("/ad_accounts")
    assert expired.status_code == 401
    assert expired.json()["code"] == 2


def test_missing_scope_is_401_code_3(tenant: Tenant) -> None:
    with tenant.client(tenant.read_token) as api:
        answer = api.post(
            f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions",
            json={"webhook_url": "https://example.com"},
        )
    assert answer.status_code == 401
    assert answer.json()["code"] == 3
    assert "ads:write" in answer.json()["message"]
