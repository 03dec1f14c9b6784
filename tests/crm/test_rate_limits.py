"""Rate limits: HighLevel's burst window and daily quota per (key or app, location), the five
`X-RateLimit-*` headers on every answer, 429 with `Retry-After`; the limiter on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from leadwire.crm import admin
from leadwire.crm.app import create_app
from leadwire.crm.ids import new_id
from leadwire.crm.models import Location
from leadwire.crm.ratelimit import RateDecision, RateLimiter
from leadwire.crm.store import open_store
from tests.conftest import make_settings
from tests.crm.conftest import VERSION, CrmServer, Tenant, new_tenant
from tests.crm.test_oauth import App, code_of, exchange, pkce, register
from tests.servers import running

HEADERS = (
    "X-RateLimit-Limit-Daily",
    "X-RateLimit-Daily-Remaining",
    "X-RateLimit-Interval-Milliseconds",
    "X-RateLimit-Max",
    "X-RateLimit-Remaining",
)
BURST = 5
INTERVAL_MS = 600_000  # long enough that no window closes during a test
DAILY = 1_000
DAY_S = 86_400


def rate_headers(answer: httpx.Response) -> dict[str, int]:
    return {name: int(answer.headers[name]) for name in HEADERS}


@pytest.fixture
def limited(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[CrmServer]:
    """A CRM of its own allowing 5 requests per window."""
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    config = make_settings(
        tmp_path, crm_rate_burst=BURST, crm_rate_interval_ms=INTERVAL_MS, crm_rate_daily=DAILY
    )
    store = open_store(config, url=url)
    with running(create_app(config, store=store)) as base:
        yield CrmServer(base, store)
    store.engine.dispose()


def _get_missing(url: str, token: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}", **VERSION}
    return httpx.get(f"{url}/contacts/{new_id()}", headers=headers, timeout=10)


def test_sixth_request_in_the_window_is_429_with_retry_after(limited: CrmServer) -> None:
    tenant = new_tenant(limited)
    for n in range(1, BURST + 1):
        answer = _get_missing(limited.url, tenant.key)
        assert answer.status_code == 404
        assert rate_headers(answer) == {
            "X-RateLimit-Limit-Daily": DAILY,
            "X-RateLimit-Daily-Remaining": DAILY - n,
            "X-RateLimit-Interval-Milliseconds": INTERVAL_MS,
            "X-RateLimit-Max": BURST,
            "X-RateLimit-Remaining": BURST - n,
        }
    answer = _get_missing(limited.url, tenant.key)
    assert answer.status_code == 429
    assert answer.json()["statusCode"] == 429
    assert 1 <= int(answer.headers["Retry-After"]) <= INTERVAL_MS // 1000
    assert rate_headers(answer)["X-RateLimit-Remaining"] == 0
    # A refused request does not count against the day.
    assert rate_headers(answer)["X-RateLimit-Daily-Remaining"] == DAILY - BURST


def _exhaust(url: str, token: str) -> None:
    for _ in range(BURST):
        assert _get_missing(url, token).status_code == 404
    assert _get_missing(url, token).status_code == 429


def test_each_key_and_location_has_its_own_bucket(limited: CrmServer) -> None:
    tenant, stranger = new_tenant(limited), new_tenant(limited)
    _exhaust(limited.url, tenant.key)
    for key in (stranger.key, tenant.read_key):
        answer = _get_missing(limited.url, key)
        assert answer.status_code == 404
        assert rate_headers(answer)["X-RateLimit-Remaining"] == BURST - 1


def _sibling(tenant: Tenant) -> Tenant:
    """Return a second location of the tenant's company, with its own keys."""
    with tenant.server.store.sessions() as session:
        company = session.get(Location, tenant.location_id)
        assert company is not None
        location = admin.create_location(session, "sibling", company_id=company.company_id)
        key = admin.create_api_key(session, location.id, "rw")
        read_key = admin.create_api_key(session, location.id, "ro")
        session.commit()
    return Tenant(tenant.server, location.id, key.token, read_key.token)


def _token(app: App) -> str:
    verifier, challenge = pkce()
    query = {
        "response_type": "code",
        "client_id": app.id,
        "redirect_uri": "http://127.0.0.1:9/callback",
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    page = httpx.get(f"{app.url}/oauth/chooselocation", params=query, timeout=10)
    approved = httpx.post(
        str(page.url), data={"locationId": app.tenant.location_id, "decision": "approve"}
    )
    answer = exchange(app, code_of(approved), verifier)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


def test_an_app_has_one_bucket_per_location(limited: CrmServer) -> None:
    home = new_tenant(limited)
    app = register(home)
    away = App(_sibling(home), app.id, app.secret)
    first, second, elsewhere = _token(app), _token(app), _token(away)
    _exhaust(limited.url, first)
    # Another token of the same app and location shares the budget; another location does not.
    assert _get_missing(limited.url, second).status_code == 429
    answer = _get_missing(limited.url, elsewhere)
    assert answer.status_code == 404
    assert rate_headers(answer)["X-RateLimit-Remaining"] == BURST - 1


def test_every_contacts_answer_carries_the_five_headers(tenant: Tenant, api: httpx.Client) -> None:
    created = api.post("/contacts/", json={"locationId": tenant.location_id})
    contact_id = created.json()["contact"]["id"]
    answers = {
        201: created,
        200: api.get(f"/contacts/{contact_id}"),
        400: api.get("/contacts/not-an-id"),
        403: api.post("/contacts/", json={"locationId": new_id()}),
        404: api.get(f"/contacts/{new_id()}"),
        405: api.patch(f"/contacts/{contact_id}", json={}),
        413: api.post("/contacts/", content=b"x" * 2_000_000, headers={"content-type": "x/y"}),
        422: api.post("/contacts/", json={"locationId": tenant.location_id, "bogus": 1}),
    }
    with tenant.client("not-a-key") as stranger:
        answers[401] = stranger.get(f"/contacts/{contact_id}")
    with tenant.client(version=False) as versionless:
        answers[-401] = versionless.get(f"/contacts/{contact_id}")
    for status, answer in answers.items():
        assert answer.status_code == abs(status), answer.text
        missing = [name for name in HEADERS if name not in answer.headers]
        assert not missing, f"{status}: no {missing}"
        assert answer.headers["x-trace-id"]


# -- the limiter alone, on an injected clock -------------------------------------------------


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_window_resets_after_the_interval() -> None:
    clock = Clock(1_000.0)
    limiter = RateLimiter(burst=3, interval_ms=10_000, daily=100, clock=clock)
    assert [limiter.hit("k").burst_remaining for _ in range(3)] == [2, 1, 0]
    clock.now += 2.5
    refused = limiter.hit("k")
    assert not refused.allowed
    assert refused.retry_after_s == 8  # 7.5 s left, rounded up
    clock.now += 7.4
    assert limiter.hit("k").retry_after_s == 1  # never 0 while refused
    clock.now += 0.1
    again = limiter.hit("k")
    assert again.allowed
    assert again.burst_remaining == 2
    assert again.daily_remaining == 96
    assert again.retry_after_s == 0


def test_daily_quota_lasts_until_the_next_utc_day() -> None:
    clock = Clock(10 * DAY_S + 100.0)
    limiter = RateLimiter(burst=100, interval_ms=1_000, daily=4, clock=clock)
    assert [limiter.hit("k").daily_remaining for _ in range(4)] == [3, 2, 1, 0]
    refused = limiter.hit("k")
    assert not refused.allowed
    assert refused.retry_after_s == DAY_S - 100
    clock.now = 11 * DAY_S - 0.5
    assert not limiter.hit("k").allowed
    clock.now = 11 * DAY_S
    fresh = limiter.hit("k")
    assert fresh.allowed
    assert fresh.daily_remaining == 3


def test_keys_do_not_share_windows() -> None:
    limiter = RateLimiter(burst=1, interval_ms=1_000, daily=10, clock=Clock())
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    assert limiter.hit("b").allowed


def test_decision_headers_are_highlevels_five() -> None:
    decision = RateDecision(True, 100, 99, 10_000, 200_000, 199_999, 0)
    assert decision.headers() == {
        "X-RateLimit-Limit-Daily": "200000",
        "X-RateLimit-Daily-Remaining": "199999",
        "X-RateLimit-Interval-Milliseconds": "10000",
        "X-RateLimit-Max": "100",
        "X-RateLimit-Remaining": "99",
    }


# Times in quarter seconds are exact in binary floating point, so window edges are exact too.
@settings(max_examples=300, deadline=None)
@given(
    burst=st.integers(min_value=1, max_value=6),
    interval_q=st.integers(min_value=1, max_value=20),
    steps_q=st.lists(st.integers(min_value=0, max_value=12), min_size=1, max_size=80),
)
def test_never_more_than_burst_per_window(burst: int, interval_q: int, steps_q: list[int]) -> None:
    clock = Clock(0.0)
    limiter = RateLimiter(burst=burst, interval_ms=interval_q * 250, daily=10**9, clock=clock)
    interval = interval_q / 4
    allowed: list[float] = []
    window_start: float | None = None
    for step in steps_q:
        clock.now += step / 4
        decision = limiter.hit("k")
        if window_start is None or clock.now - window_start >= interval:
            window_start = clock.now  # the first request after a window's end opens the next
        in_window = sum(1 for t in allowed if t >= window_start)
        # Refused exactly when this window already holds `burst` requests; never more.
        assert decision.allowed == (in_window < burst)
        assert decision.allowed == (decision.retry_after_s == 0)
        if decision.allowed:
            allowed.append(clock.now)
            assert decision.burst_remaining == burst - in_window - 1
        else:
            assert 1 <= decision.retry_after_s <= interval + 1
    # Whatever the windows, any span of one interval sees at most two windows' worth.
    for t in allowed:
        assert sum(1 for u in allowed if t <= u < t + interval) <= 2 * burst
