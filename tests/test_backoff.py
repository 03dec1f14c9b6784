"""Properties of the shared backoff: the ceiling's doubling and cap, full jitter, Retry-After."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire import backoff
from leadwire.backoff import RetryPolicy, backoff_ceiling_s, parse_retry_after, retry_delay_s


@st.composite
def policies(draw: st.DrawFn) -> RetryPolicy:
    """Draw a valid policy: cap between the base and ten thousand times it."""
    base_s = draw(st.floats(min_value=0.001, max_value=600))
    cap_s = base_s * draw(st.floats(min_value=1, max_value=10_000))
    return RetryPolicy(draw(st.integers(min_value=1, max_value=50)), base_s, cap_s)


attempts = st.integers(min_value=1, max_value=10**9)
units = st.floats(min_value=0, max_value=1, exclude_max=True)
moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


@given(policies(), st.integers(min_value=1, max_value=64))
def test_the_ceiling_doubles_from_the_base_until_the_cap(policy: RetryPolicy, attempt: int) -> None:
    expected = min(policy.cap_s, policy.base_s * 2.0 ** (attempt - 1))
    assert backoff_ceiling_s(attempt, policy) == pytest.approx(expected)


@given(policies(), attempts)
def test_the_ceiling_never_leaves_base_to_cap_even_after_countless_attempts(
    policy: RetryPolicy, attempt: int
) -> None:
    assert policy.base_s <= backoff_ceiling_s(attempt, policy) <= policy.cap_s


@given(policies(), st.integers(min_value=-5, max_value=1))
def test_attempts_below_one_wait_like_the_first(policy: RetryPolicy, attempt: int) -> None:
    assert backoff_ceiling_s(attempt, policy) == backoff_ceiling_s(1, policy) == policy.base_s


@given(policies(), attempts, units, units)
def test_full_jitter_scales_the_ceiling_by_the_draw(
    policy: RetryPolicy, attempt: int, low: float, high: float
) -> None:
    low, high = sorted((low, high))
    ceiling = backoff_ceiling_s(attempt, policy)
    assert retry_delay_s(attempt, policy, low) == pytest.approx(ceiling * low)
    assert 0 <= retry_delay_s(attempt, policy, low) <= retry_delay_s(attempt, policy, high)
    assert retry_delay_s(attempt, policy, high) <= ceiling


@given(policies(), attempts, units, st.floats(min_value=-1e6, max_value=1e9, allow_nan=False))
def test_retry_after_is_a_floor_of_at_most_a_day(
    policy: RetryPolicy, attempt: int, unit: float, retry_after: float
) -> None:
    delay = retry_delay_s(attempt, policy, unit, retry_after)
    floor = min(max(retry_after, 0.0), backoff.RETRY_AFTER_CEILING_S)
    assert delay == max(retry_delay_s(attempt, policy, unit), floor)


@given(st.integers(min_value=0, max_value=10**12), moments, st.sampled_from(["", " ", "\t"]))
def test_retry_after_in_ascii_seconds_is_read_as_is(seconds: int, now: datetime, pad: str) -> None:
    assert parse_retry_after(f"{pad}{seconds}{pad}", now) == float(seconds)


@given(moments, st.integers(min_value=-(10**7), max_value=10**7))
def test_retry_after_as_an_http_date_counts_from_now_and_never_below_zero(
    now: datetime, offset_s: int
) -> None:
    when = now.replace(microsecond=0) + timedelta(seconds=offset_s)
    expected = max((when - now).total_seconds(), 0.0)
    assert parse_retry_after(format_datetime(when, usegmt=True), now) == pytest.approx(expected)


def test_a_date_without_a_zone_is_taken_as_utc() -> None:
    now = datetime(2025, 1, 1, 12, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 Jan 2025 12:01:30 -0000", now) == 90.0


@given(
    st.text(
        st.characters(categories=["Nd", "No"]).filter(lambda c: not c.isascii() and c.isdigit()),
        min_size=1,
        max_size=4,
    )
)
def test_digits_other_than_ascii_are_not_seconds(value: str) -> None:
    # Superscript two used to raise from float(), full-width digits to be read as seconds.
    assert parse_retry_after(value, datetime(2025, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize("value", [None, "", "  ", "soon", "-5", "1.5", "1e3", "Mon, 99 Foo 2025"])
def test_unreadable_retry_after_is_ignored(value: str | None) -> None:
    assert parse_retry_after(value, datetime(2025, 1, 1, tzinfo=UTC)) is None


@pytest.mark.parametrize(
    ("max_attempts", "base_s", "cap_s"), [(0, 1.0, 2.0), (3, 0.0, 2.0), (3, -1.0, 2.0), (3, 5, 1)]
)
def test_a_policy_that_cannot_work_is_refused(
    max_attempts: int, base_s: float, cap_s: float
) -> None:
    with pytest.raises(ValueError, match="base_s <= cap_s"):
        RetryPolicy(max_attempts, base_s, cap_s)
