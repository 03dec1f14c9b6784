"""The refresh flow: near expiry, once on a 401, rotation persisted, one refresh per process."""

from __future__ import annotations

import threading
from datetime import timedelta

import httpx
import pytest

from leadwire.connectors.pinterest.errors import PinterestAuthError, PinterestUnavailableError
from leadwire.connectors.pinterest.oauth import TokenSet
from leadwire.errors import AuthError, RetryableError
from tests.connectors.fakes import APP, START, FakePinterest, error, ok

ACCOUNT = "549755885175"
ACCOUNT_BODY = {"id": ACCOUNT, "name": "Acme"}


def test_token_expiring_within_the_skew_is_refreshed_before_the_request(
    pinterest: FakePinterest,
) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    saved: list[TokenSet] = []
    with pinterest.client(pinterest.tokens(expires_in_s=60), on_tokens=saved.append) as client:
        assert client.ads.fetch_ad_account(ACCOUNT).name == "Acme"
    assert len(pinterest.token_forms) == 1
    assert [r.headers["Authorization"] for r in pinterest.api_requests()] == ["Bearer access-1"]
    assert [t.access_token for t in saved] == ["access-1"]


def test_token_far_from_expiry_is_not_refreshed(pinterest: FakePinterest) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    with pinterest.client(pinterest.tokens(expires_in_s=3600), refresh_skew_s=300) as client:
        client.ads.fetch_ad_account(ACCOUNT)
        pinterest.clock.advance(3600 - 301)
        client.ads.fetch_ad_account(ACCOUNT)
        assert pinterest.token_forms == []
        pinterest.clock.advance(2)  # now inside the skew
        client.ads.fetch_ad_account(ACCOUNT)
    assert len(pinterest.token_forms) == 1


def test_refresh_sends_basic_client_auth_and_asks_for_a_continuous_token(
    pinterest: FakePinterest,
) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    with pinterest.client(pinterest.tokens(expires_in_s=0)) as client:
        client.ads.fetch_ad_account(ACCOUNT)
    assert pinterest.token_forms == [
        {"grant_type": "refresh_token", "refresh_token": "refresh-0", "continuous_refresh": "true"}
    ]
    token_request = pinterest.requests[0]
    assert token_request.url == "https://api.pinterest.com/v5/oauth/token"
    assert token_request.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_a_401_refreshes_once_and_resends(pinterest: FakePinterest) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    saved: list[TokenSet] = []
    stale = pinterest.tokens()
    pinterest.generation = 5  # the server moved on: the stored access token is revoked
    stale_with_live_refresh = TokenSet(
        access_token=stale.access_token,
        access_expires_at=stale.access_expires_at,
        refresh_token="refresh-5",
    )
    with pinterest.client(stale_with_live_refresh, on_tokens=saved.append) as client:
        assert client.ads.fetch_ad_account(ACCOUNT).id == ACCOUNT
        assert client.auth is not None
    sent = [r.headers["Authorization"] for r in pinterest.api_requests()]
    assert sent == ["Bearer access-0", "Bearer access-6"]
    assert len(pinterest.token_forms) == 1
    assert [t.refresh_token for t in saved] == ["refresh-6"]


def test_a_second_401_is_an_auth_error_without_another_refresh(pinterest: FakePinterest) -> None:
    pinterest.accept_any_token = True
    pinterest.on(
        "GET", f"/ad_accounts/{ACCOUNT}", lambda r: error(401, 2, "Authentication failed.")
    )
    with pinterest.client() as client, pytest.raises(PinterestAuthError) as caught:
        client.ads.fetch_ad_account(ACCOUNT)
    assert isinstance(caught.value, AuthError)
    assert caught.value.http_status == 401
    assert caught.value.code == 2
    assert "even after refreshing" in str(caught.value)
    assert len(pinterest.token_forms) == 1
    assert len(pinterest.api_requests()) == 2


def test_a_401_for_a_missing_scope_is_not_refreshed(pinterest: FakePinterest) -> None:
    pinterest.accept_any_token = True
    pinterest.on(
        "GET", f"/ad_accounts/{ACCOUNT}", lambda r: error(401, 3, "Your token does not have...")
    )
    with pinterest.client() as client, pytest.raises(PinterestAuthError) as caught:
        client.ads.fetch_ad_account(ACCOUNT)
    assert caught.value.code == 3
    assert pinterest.token_forms == []


def test_without_a_refresh_token_a_401_is_final(pinterest: FakePinterest) -> None:
    tokens = TokenSet(access_token="app-token", access_expires_at=pinterest.clock())
    with pinterest.client(tokens) as client, pytest.raises(PinterestAuthError):
        client.ads.fetch_ad_account(ACCOUNT)
    assert pinterest.token_forms == []
    assert len(pinterest.api_requests()) == 1


def test_a_refused_refresh_is_an_auth_error_and_persists_nothing(
    pinterest: FakePinterest,
) -> None:
    saved: list[TokenSet] = []
    tokens = TokenSet(
        access_token="access-0",
        access_expires_at=pinterest.clock(),
        refresh_token="refresh-stolen",
    )
    with (
        pinterest.client(tokens, on_tokens=saved.append) as client,
        pytest.raises(PinterestAuthError) as caught,
    ):
        client.ads.fetch_ad_account(ACCOUNT)
    assert caught.value.code == 283
    assert caught.value.http_status == 400
    assert saved == []
    assert pinterest.api_requests() == []


def test_a_refresh_that_meets_a_5xx_is_retryable(pinterest: FakePinterest) -> None:
    pinterest.token_answer = lambda: error(503, 0, "down")
    with (
        pinterest.client(pinterest.tokens(expires_in_s=0)) as client,
        pytest.raises(PinterestUnavailableError) as caught,
    ):
        client.ads.fetch_ad_account(ACCOUNT)
    assert isinstance(caught.value, RetryableError)


def test_rotated_tokens_reach_the_callback_and_the_auth(pinterest: FakePinterest) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    saved: list[TokenSet] = []
    with pinterest.client(pinterest.tokens(expires_in_s=10), on_tokens=saved.append) as client:
        client.ads.fetch_ad_account(ACCOUNT)
        pinterest.clock.advance(2_592_000)  # the new token's whole life
        client.ads.fetch_ad_account(ACCOUNT)
        current = client.tokens
    assert [(t.access_token, t.refresh_token) for t in saved] == [
        ("access-1", "refresh-1"),
        ("access-2", "refresh-2"),
    ]
    assert current == saved[-1]
    assert saved[0].access_expires_at == START + timedelta(seconds=2_592_000)
    assert saved[0].refresh_expires_at is not None


def test_an_answer_without_a_refresh_token_keeps_the_old_one(pinterest: FakePinterest) -> None:
    pinterest.rotate_refresh = False
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    saved: list[TokenSet] = []
    with pinterest.client(pinterest.tokens(expires_in_s=0), on_tokens=saved.append) as client:
        client.ads.fetch_ad_account(ACCOUNT)
    assert saved[0].access_token == "access-1"
    assert saved[0].refresh_token == "refresh-0"


def test_a_failing_callback_surfaces_but_the_new_tokens_stay_in_use(
    pinterest: FakePinterest,
) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))

    def refuse(tokens: TokenSet) -> None:
        raise OSError("disk full")

    with pinterest.client(pinterest.tokens(expires_in_s=0), on_tokens=refuse) as client:
        with pytest.raises(OSError, match="disk full"):
            client.ads.fetch_ad_account(ACCOUNT)
        assert client.tokens is not None
        assert client.tokens.refresh_token == "refresh-1"


@pytest.mark.parametrize("trigger", ["near_expiry", "unauthorized"])
def test_concurrent_requests_refresh_once(pinterest: FakePinterest, trigger: str) -> None:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", ok(ACCOUNT_BODY))
    pinterest.token_delay_s = 0.2
    if trigger == "near_expiry":
        tokens = pinterest.tokens(expires_in_s=5)
    else:
        tokens = pinterest.tokens()
        pinterest.generation = 1  # everyone's first try gets a 401
        tokens = TokenSet(
            access_token="access-0",
            access_expires_at=tokens.access_expires_at,
            refresh_token="refresh-1",
        )
    saved: list[TokenSet] = []
    failures: list[BaseException] = []
    start = threading.Barrier(8)
    with pinterest.client(tokens, on_tokens=saved.append) as client:

        def fetch() -> None:
            start.wait()
            try:
                client.ads.fetch_ad_account(ACCOUNT)
            except BaseException as exc:  # collected for the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=fetch) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert failures == []
    assert len(pinterest.token_forms) == 1
    assert len(saved) == 1
    fresh = f"Bearer access-{pinterest.generation}"
    assert sum(r.headers["Authorization"] == fresh for r in pinterest.api_requests()) == 8


def test_code_exchange_and_client_credentials_use_basic_auth_and_no_bearer(
    pinterest: FakePinterest,
) -> None:
    with pinterest.client() as client:
        tokens = client.exchange_code(APP, "the-code", "https://app.example/cb", "v" * 43)
        app_token = client.client_credentials(APP)
    assert tokens.access_token == "access-1"
    assert tokens.refresh_token == "refresh-1"
    assert tokens.scopes == frozenset({"ads:read", "ads:write"})
    assert app_token.refresh_token is None
    assert pinterest.token_forms[0] == {
        "grant_type": "authorization_code",
        "code": "the-code",
        "redirect_uri": "https://app.example/cb",
        "code_verifier": "v" * 43,
        "continuous_refresh": "true",
    }
    assert pinterest.token_forms[1] == {
        "grant_type": "client_credentials",
        "scope": "ads:read,ads:write",
    }
    assert all(r.headers["Authorization"].startswith("Basic ") for r in pinterest.requests)


def test_a_bad_code_is_an_auth_error(pinterest: FakePinterest) -> None:
    pinterest.token_answer = lambda: error(400, 283, "The authorization grant is invalid")
    with pinterest.client() as client, pytest.raises(PinterestAuthError) as caught:
        client.exchange_code(APP, "used-code", "https://app.example/cb")
    assert caught.value.code == 283


def test_the_auth_refuses_async_clients() -> None:
    import asyncio

    from leadwire.connectors.pinterest.auth import PinterestAuth

    pinterest = FakePinterest()
    auth = PinterestAuth(pinterest.tokens())

    async def call() -> None:
        async with httpx.AsyncClient(auth=auth, transport=httpx.MockTransport(pinterest)) as client:
            await client.get("https://api.pinterest.com/v5/ad_accounts")

    with pytest.raises(RuntimeError, match="sync only"):
        asyncio.run(call())
