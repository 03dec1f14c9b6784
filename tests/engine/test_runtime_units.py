"""The runtime's pure parts: backoff, the throttle, the workflow's wire data, the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import MetaData

from leadwire.engine.runtime import RateBudget, RateObservation, RetryPolicy, retry_delay_s
from leadwire.engine.runtime.backoff import is_exhausted, unit_interval
from leadwire.engine.runtime.jobs import CallOutcome, CallRecord, LeadJob, Progress
from leadwire.engine.runtime.throttle import LocationThrottle
from leadwire.store.app import open_app_store
from leadwire.store.models.base import AppBase
from leadwire.store.models.runs import InboxRow, RunRow, RunStepRow
from tests.conftest import make_settings

policies = st.builds(
    lambda base, factor, window: RetryPolicy(base_s=base, cap_s=base * factor, window_s=window),
    st.floats(0.01, 60),
    st.floats(1, 1000),
    st.floats(0, 200_000),
)


@given(policies, st.integers(1, 500), st.text(max_size=30), st.none() | st.floats(0, 10_000))
def test_a_delay_is_within_the_jittered_ceiling_or_the_servers_wait(
    policy: RetryPolicy, attempt: int, seed: str, retry_after: float | None
) -> None:
    delay = retry_delay_s(policy, attempt, seed=seed, retry_after_s=retry_after)
    ceiling = min(policy.cap_s, policy.base_s * 2 ** (attempt - 1))
    assert delay >= 0
    if retry_after is not None:
        assert delay >= retry_after  # never earlier than the server allows
        assert delay <= max(ceiling, retry_after)
    else:
        assert delay <= ceiling


@given(policies, st.integers(1, 50), st.text(max_size=30))
def test_the_same_run_and_attempt_get_the_same_delay(
    policy: RetryPolicy, attempt: int, seed: str
) -> None:
    # Workflow code may run again on recovery: its decisions must not change.
    assert retry_delay_s(policy, attempt, seed=seed) == retry_delay_s(policy, attempt, seed=seed)


def test_jitter_spreads_over_the_whole_interval() -> None:
    draws = [unit_interval("run", n) for n in range(2000)]
    assert min(draws) < 0.02
    assert max(draws) > 0.98
    assert 0.45 < sum(draws) / len(draws) < 0.55


def test_retries_stop_at_the_window() -> None:
    policy = RetryPolicy(window_s=86_400)
    assert not is_exhausted(policy, first_failure_s=0, next_try_s=86_400)
    assert is_exhausted(policy, first_failure_s=0, next_try_s=86_401)
    with pytest.raises(ValueError, match="attempt"):
        retry_delay_s(policy, 0, seed="x")
    with pytest.raises(ValueError, match="base_s"):
        RetryPolicy(base_s=10, cap_s=1)


def test_the_limiter_follows_the_published_budget() -> None:
    assert RateBudget().segments_per_interval() == 22  # 100 per 10 s, 4 calls a lead, 90 %
    assert RateBudget(burst=100, calls_per_lead=1, headroom=1).segments_per_interval() == 100
    assert RateBudget(burst=3, calls_per_lead=8).segments_per_interval() == 1


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_spent_budget_pauses_its_location_for_an_interval() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(), clock=clock)
    throttle.observe("A", RateObservation(100, 0, 10_000, 5000))
    assert throttle.wait_s("A") == 10.0
    assert throttle.wait_s("B") == 0.0
    clock.now += 10
    assert throttle.wait_s("A") == 0.0


def test_a_429_pauses_for_its_retry_after_and_the_daily_quota_until_midnight() -> None:
    clock = Clock()
    throttle = LocationThrottle(RateBudget(), clock=clock)
    throttle.refuse("A", 3.0)
    assert throttle.wait_s("A") == 3.0
    throttle.refuse("A", 1.0)  # a shorter pause never shortens a longer one
    assert throttle.wait_s("A") == 3.0
    throttle.observe("B", RateObservation(100, 50, 10_000, 0))
    assert throttle.wait_s("B") == 86_400 - clock.now % 86_400


def test_other_published_limits_change_the_limiter_once() -> None:
    seen: list[RateBudget] = []
    throttle = LocationThrottle(RateBudget(), on_budget_change=seen.append, clock=Clock())
    throttle.observe("A", RateObservation(100, 99, 10_000, None))
    assert seen == []
    throttle.observe("A", RateObservation(50, 49, 5_000, None))
    throttle.observe("B", RateObservation(50, 40, 5_000, None))
    assert [(b.burst, b.interval_s) for b in seen] == [(50, 5.0)]
    assert throttle.budget.segments_per_interval() == 11
    throttle.set_budget(RateBudget(calls_per_lead=2))
    throttle.set_budget(RateBudget(calls_per_lead=2))
    assert [b.segments_per_interval() for b in seen] == [11, 45]


def test_rate_headers_are_read_leniently() -> None:
    seen = RateObservation.from_headers(
        {"X-RateLimit-Max": "100", "x-ratelimit-remaining": "7", "X-RateLimit-Daily-Remaining": "?"}
    )
    assert seen == RateObservation(100, 7, None, None)


def test_wire_data_round_trips() -> None:
    job = LeadJob("lead:1:f:v2", "1", "f", 2, "loc", {"calls": [{"a": 1}]}, 123)
    assert LeadJob.from_wire(job.to_wire()) == job
    progress = Progress("lead:1:f:v2", 3, 2, {"contact_id": "c"}, {"contact_id": "c"}, 4, 99, 5)
    assert Progress.from_wire(progress.to_wire()) == progress
    assert progress.expected_workflow_id == "lead:1:f:v2/3"
    replay = progress.for_replay("lead:1:f:v2/replay1")
    assert (replay.chain, replay.segment, replay.attempts, replay.first_failure_ms) == (
        "lead:1:f:v2/replay1",
        0,
        0,
        None,
    )
    assert replay.next_index == 2
    assert replay.bindings == {"contact_id": "c"}
    record = CallRecord(2, "note", "POST /x", CallOutcome.RETRY, 10, 5, retry_after_s=1.5)
    assert CallRecord.from_wire(record.to_wire()) == record
    assert record.finished_ms == 15


def test_migrations_make_exactly_the_runs_tables(tmp_path: Path) -> None:
    store = open_app_store(make_settings(tmp_path))
    mine = MetaData()
    for model in (RunRow, RunStepRow, InboxRow):
        model.__table__.to_metadata(mine)  # type: ignore[attr-defined]
    assert set(mine.tables) <= set(AppBase.metadata.tables)
    with store.engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "include_name": lambda name, kind, _parents: kind != "table" or name in mine.tables,
            },
        )
        assert compare_metadata(context, mine) == []
    store.engine.dispose()
