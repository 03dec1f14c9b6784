"""Rate limits per (app, user, category): 429 code 8 with X-RateLimit-Reset."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from leadwire.sandbox.app import create_app
from leadwire.sandbox.ratelimit import RateLimiter
from tests.sandbox.conftest import SandboxServer, Tenant, new_tenant, sandbox_settings
from tests.servers import running

READ_LIMIT = 4
WRITE_LIMIT = 2


@pytest.fixture
def limited(sandbox_server: SandboxServer) -> Iterator[SandboxServer]:
    """A second sandbox app on the same store, with tiny limits."""
    settings = sandbox_settings(
        sandbox_server.settings.data_dir,
        sandbox_rate_read_per_min=READ_LIMIT,
        sandbox_rate_write_per_min=WRITE_LIMIT,
    )
    with running(create_app(settings, store=sandbox_server.store)) as url:
        yield SandboxServer(url, sandbox_server.store, settings)


def _until_refused(client: httpx.Client, path: str, limit: int) -> tuple[int, httpx.Response]:
    for passed in range(limit + 1):
        answer = client.get(path)
        if answer.status_code == 429:
            return passed, answer
        assert answer.status_code == 200, answer.text
    raise AssertionError(f"no 429 after {limit + 1} requests")


def test_reads_beyond_the_limit_get_429_code_8(limited: SandboxServer) -> None:
    # A minute boundary between two requests resets the window; then try once more.
    for _attempt in range(2):
        tenant = new_tenant(limited)
        with tenant.client() as api:
            passed, refused = _until_refused(api, "/ad_accounts", READ_LIMIT)
            if passed != READ_LIMIT:
                continue
            assert refused.json()["code"] == 8
            assert "rate limit" in refused.json()["message"]
            reset = int(refused.headers["X-RateLimit-Reset"])
            assert 1 <= reset <= 60
            assert refused.headers["x-pinterest-rid"]
            write = api.post(
                f"/ad_accounts/{tenant.ad_account_id}/leads/subscriptions",
                json={"webhook_url": "https://example.com"},
            )
            assert write.status_code == 200, "ads_write has its own quota"
        other = new_tenant(limited)
        with other.client() as api:
            assert api.get("/ad_accounts").status_code == 200, "other users have their own"
        return
    raise AssertionError("the limit was never reached within one window")


def test_writes_have_their_own_limit(limited: SandboxServer) -> None:
    expected = [400] * WRITE_LIMIT + [429]
    for _attempt in range(2):  # as above: a minute boundary may reset the window once
        tenant: Tenant = new_tenant(limited)
        path = f"/ad_accounts/{tenant.ad_account_id}/lead_forms/{tenant.contact_form}/test"
        with tenant.client() as api:
            codes = [api.post(path, json={"answers": []}).status_code for _ in expected]
            if codes == expected:
                assert api.get("/ad_accounts").status_code == 200, "reads have their own quota"
                return
    raise AssertionError(f"write limit not enforced: {codes}")


def test_limiter_windows_are_whole_minutes() -> None:
    now = [1_000_000.0]
    limiter = RateLimiter({"ads_read": 2}, clock=lambda: now[0])
    assert limiter.hit("a", "ads_read").allowed
    assert limiter.hit("a", "ads_read").allowed
    refused = limiter.hit("a", "ads_read")
    assert not refused.allowed
    assert refused.reset_s == 60 - (1_000_000 % 60)
    assert limiter.hit("b", "ads_read").allowed
    assert limiter.hit("a", "org_read").allowed, "unlimited category"
    now[0] += refused.reset_s
    assert limiter.hit("a", "ads_read").allowed
