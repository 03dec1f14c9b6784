"""Properties of the webhook retry rules: backoff bounds, the cap, Retry-After, verdicts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.crm.webhooks.retries import (
    RETRY_AFTER_CEILING_S,
    RetryPolicy,
    Verdict,
    backoff_ceiling_s,
    classify,
    parse_retry_after,
    retry_delay_s,
)

policies = st.builds(
    lambda base, factor, attempts: RetryPolicy(attempts, base, base * factor),
    st.floats(min_value=0.001, max_value=600, allow_nan=False),
    st.floats(min_value=1, max_value=10_000, allow_nan=False),
    st.integers(min_value=1, max_value=50),
)
attempts = st.integers(min_value=1, max_value=10_000)
units = st.floats(min_value=0, max_value=1, exclude_max=True)
retry_afters = st.floats(min_value=0, max_value=10 * RETRY_AFTER_CEILING_S, allow_nan=False)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(policies, attempts, units)
def test_delay_lies_between_zero_and_the_ceiling_which_never_passes_the_cap(
    policy: RetryPolicy, attempt: int, unit: float
) -> None:
    ceiling = backoff_ceiling_s(attempt, policy)
    assert policy.base_s <= ceiling <= policy.cap_s
    assert 0 <= retry_delay_s(attempt, policy, unit) <= ceiling


@given(policies, attempts)
def test_ceiling_grows_with_attempts_until_the_cap_then_stays(
    policy: RetryPolicy, attempt: int
) -> None:
    now, later = backoff_ceiling_s(attempt, policy), backoff_ceiling_s(attempt + 1, policy)
    assert later >= now
    if now < policy.cap_s:
        assert later == pytest.approx(min(2 * now, policy.cap_s))
    else:
        assert later == policy.cap_s


@given(policies, attempts, units, retry_afters)
def test_retry_after_is_honoured_up_to_a_day(
    policy: RetryPolicy, attempt: int, unit: float, retry_after: float
) -> None:
    delay = retry_delay_s(attempt, policy, unit, retry_after)
    honoured = min(retry_after, RETRY_AFTER_CEILING_S)
    assert delay >= honoured
    assert delay <= max(honoured, backoff_ceiling_s(attempt, policy))


@given(policies, attempts)
def test_full_jitter_spans_the_whole_range(policy: RetryPolicy, attempt: int) -> None:
    assert retry_delay_s(attempt, policy, 0.0) == 0.0
    top = retry_delay_s(attempt, policy, 0.999999)
    assert top == pytest.approx(backoff_ceiling_s(attempt, policy) * 0.999999)


@given(st.integers(min_value=0, max_value=10**9), moments)
def test_retry_after_in_seconds_is_read_as_is(seconds: int, now: datetime) -> None:
    assert parse_retry_after(str(seconds), now) == seconds
    assert parse_retry_after(f"  {seconds} ", now) == seconds


@given(moments, st.integers(min_value=-(10**6), max_value=10**6))
def test_retry_after_as_http_date_counts_from_now_never_negative(
    now: datetime, offset_s: int
) -> None:
    when = now.replace(microsecond=0) + timedelta(seconds=offset_s)
    parsed = parse_retry_after(format_datetime(when, usegmt=True), now)
    assert parsed == pytest.approx(max((when - now).total_seconds(), 0.0))


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5e3", "Mon, 99 Foo 2025"])
def test_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, datetime(2025, 1, 1, tzinfo=UTC)) is None


@given(st.integers(min_value=100, max_value=599))
def test_only_2xx_delivers_and_only_408_429_5xx_retry(code: int) -> None:
    verdict = classify(code)
    if 200 <= code < 300:
        assert verdict is Verdict.DELIVERED
    elif code in (408, 429) or code >= 500:
        assert verdict is Verdict.RETRY
    else:
        assert verdict is Verdict.FAILED


def test_a_policy_with_a_cap_below_its_base_is_refused() -> None:
    with pytest.raises(ValueError, match="base_s <= cap_s"):
        RetryPolicy(3, base_s=10, cap_s=1)
