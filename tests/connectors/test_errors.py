"""Error classification by type, and the wait a 429 announces (said out loud when it is daily)."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.connectors.pinterest.errors import (
    PinterestApiError,
    PinterestAuthError,
    PinterestBadRequestError,
    PinterestNotFoundError,
    PinterestRateLimitedError,
    PinterestUnavailableError,
    scrub,
)
from leadwire.connectors.pinterest.ratelimits import MAX_WAIT_S, describe_wait, parse_retry_after
from leadwire.errors import (
    AuthError,
    BadRequestError,
    FatalError,
    NotFoundError,
    RateLimitedError,
    RetryableError,
    UpstreamUnavailableError,
)
from tests.connectors.fakes import START, FakePinterest, error

ACCOUNT = "549755885175"
RATE_MESSAGE = "This request exceeded a rate limit."


def fetch_with(pinterest: FakePinterest, response: httpx.Response) -> BaseException:
    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", lambda r: response)
    with pinterest.client() as client:
        try:
            client.ads.fetch_ad_account(ACCOUNT)
        except BaseException as exc:
            return exc
    raise AssertionError("no error raised")


def test_429_with_x_ratelimit_reset_gives_the_wait(pinterest: FakePinterest) -> None:
    exc = fetch_with(pinterest, error(429, 8, RATE_MESSAGE, **{"X-RateLimit-Reset": "42"}))
    assert isinstance(exc, PinterestRateLimitedError)
    assert isinstance(exc, RateLimitedError)
    assert exc.retry_after_s == 42
    assert exc.is_daily_quota is False
    assert (exc.http_status, exc.code, exc.message) == (429, 8, RATE_MESSAGE)
    assert "retry in 42 s" in str(exc)


def test_a_daily_sized_reset_is_flagged_and_said(
    pinterest: FakePinterest, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    exc = fetch_with(pinterest, error(429, 8, RATE_MESSAGE, **{"X-RateLimit-Reset": "67150"}))
    assert isinstance(exc, PinterestRateLimitedError)
    assert exc.retry_after_s == 67150
    assert exc.is_daily_quota is True
    assert "Pinterest daily quota exhausted; resets in 18.7 h" in str(exc)
    lines = [r.getMessage() for r in caplog.records if "rate_limited" in r.getMessage()]
    assert len(lines) == 1
    assert "daily_quota=True" in lines[0]
    assert "retry_after_s=67150" in lines[0]
    assert "Pinterest daily quota exhausted; resets in 18.7 h" in lines[0]


def test_retry_after_as_an_http_date(pinterest: FakePinterest) -> None:
    when = format_datetime(START + timedelta(seconds=90), usegmt=True)
    exc = fetch_with(pinterest, error(429, 8, RATE_MESSAGE, **{"Retry-After": when}))
    assert isinstance(exc, RateLimitedError)
    assert exc.retry_after_s == 90


def test_retry_after_wins_over_x_ratelimit_reset(pinterest: FakePinterest) -> None:
    exc = fetch_with(
        pinterest,
        error(429, 8, RATE_MESSAGE, **{"Retry-After": "7", "X-RateLimit-Reset": "67150"}),
    )
    assert isinstance(exc, RateLimitedError)
    assert exc.retry_after_s == 7


def test_a_429_without_a_time_is_still_rate_limited(pinterest: FakePinterest) -> None:
    exc = fetch_with(pinterest, error(429, 8, RATE_MESSAGE))
    assert isinstance(exc, RateLimitedError)
    assert exc.retry_after_s is None
    assert "no reset time given" in str(exc)


@pytest.mark.parametrize("status", [500, 502, 503, 504, 408])
def test_5xx_is_upstream_unavailable(pinterest: FakePinterest, status: int) -> None:
    exc = fetch_with(pinterest, error(status, 0, "Internal error"))
    assert isinstance(exc, PinterestUnavailableError)
    assert isinstance(exc, UpstreamUnavailableError)
    assert exc.http_status == status


@pytest.mark.parametrize(
    "failure",
    [
        httpx.ReadTimeout("slow"),
        httpx.ConnectTimeout("slow"),
        httpx.ConnectError("refused"),
        httpx.RemoteProtocolError("hung up"),
    ],
)
def test_timeouts_and_broken_connections_are_upstream_unavailable(
    pinterest: FakePinterest, failure: httpx.TransportError
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise failure

    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}", fail)
    with pinterest.client() as client, pytest.raises(UpstreamUnavailableError) as caught:
        client.ads.fetch_ad_account(ACCOUNT)
    assert isinstance(caught.value, PinterestApiError)
    assert caught.value.http_status is None


@pytest.mark.parametrize(
    ("status", "code", "message", "kind", "branch"),
    [
        (
            400,
            1,
            "Invalid ad account lead forms parameters.",
            PinterestBadRequestError,
            BadRequestError,
        ),
        (404, 4842, "Lead form is not found.", PinterestNotFoundError, NotFoundError),
        (403, 29, "You are not permitted to access that resource.", PinterestAuthError, AuthError),
        (409, 2, "Conflict.", PinterestBadRequestError, BadRequestError),
        (422, 400, "Invalid.", PinterestBadRequestError, BadRequestError),
    ],
)
def test_other_4xx_are_fatal_with_pinterest_code_and_message(
    pinterest: FakePinterest,
    status: int,
    code: int,
    message: str,
    kind: type[Exception],
    branch: type[Exception],
) -> None:
    exc = fetch_with(pinterest, error(status, code, message))
    assert isinstance(exc, kind)
    assert isinstance(exc, branch)
    assert isinstance(exc, FatalError)
    assert not isinstance(exc, RetryableError)
    assert isinstance(exc, PinterestApiError)
    assert (exc.http_status, exc.code, exc.message) == (status, code, message)
    assert f"code {code}: {message}" in str(exc)


def test_an_error_body_that_is_not_pinterest_shaped_still_classifies(
    pinterest: FakePinterest,
) -> None:
    exc = fetch_with(pinterest, httpx.Response(400, content=b"<html>Bad gateway-ish</html>"))
    assert isinstance(exc, PinterestBadRequestError)
    assert exc.code is None
    assert "Bad gateway-ish" in exc.message


def test_messages_lose_emails_phones_and_bearer_tokens() -> None:
    text = scrub("Invalid answer jane.doe@example.com / +1 (415) 555-0100, Bearer pina_SECRET")
    assert "jane.doe" not in text
    assert "555-0100" not in text
    assert "pina_SECRET" not in text


@pytest.mark.parametrize(
    ("headers", "message", "expected"),
    [
        ({"X-RateLimit-Reset": "30"}, None, 30.0),
        ({"x-ratelimit-reset": " 2.5 "}, None, 2.5),
        ({"Retry-After": "120"}, None, 120.0),
        ({"X-RateLimit-Reset": str(int(START.timestamp()) + 600)}, None, 600.0),
        ({"Retry-After": "Thu, 11 Dec 2025 08:00:00 GMT"}, None, 0.0),  # in the past
        ({"Retry-After": "soon"}, None, None),
        ({"Retry-After": "-5"}, None, None),
        ({"X-RateLimit-Reset": "inf"}, None, None),
        ({"X-RateLimit-Reset": "NaN"}, None, None),
        ({"X-RateLimit-Reset": "١٢٣"}, None, None),
        ({}, "Rate limit hit. Retry after 17 seconds.", 17.0),
        ({"Retry-After": "99999999"}, None, float(MAX_WAIT_S)),
        ({}, None, None),
    ],
)
def test_parse_retry_after(
    headers: dict[str, str], message: str | None, expected: float | None
) -> None:
    assert parse_retry_after(headers, message, START) == expected


@given(
    st.dictionaries(st.sampled_from(["Retry-After", "X-RateLimit-Reset", "X-Other"]), st.text()),
    st.text(),
)
def test_parse_retry_after_never_raises_and_stays_in_range(
    headers: dict[str, str], message: str
) -> None:
    wait = parse_retry_after(headers, message, START)
    assert wait is None or 0.0 <= wait <= MAX_WAIT_S


@pytest.mark.parametrize(("seconds", "text"), [(45, "45 s"), (750, "12.5 min"), (67150, "18.7 h")])
def test_describe_wait(seconds: float, text: str) -> None:
    assert describe_wait(seconds) == text
