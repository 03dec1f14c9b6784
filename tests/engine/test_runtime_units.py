"""The runtime's pure parts: backoff, the workflow's wire data, the schema (the throttle:
`test_runtime_throttle`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import MetaData

from leadwire.engine.runtime import RateObservation, RetryPolicy, retry_delay_s
from leadwire.engine.runtime.backoff import is_exhausted, unit_interval
from leadwire.engine.runtime.jobs import (
    PROGRESS_VERSION,
    CallOutcome,
    CallRecord,
    LeadJob,
    Progress,
)
from leadwire.engine.runtime.stranded import _replay_from, _standing_ids
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
    assert progress.version == PROGRESS_VERSION
    # A progress written before versions were is the first version's.
    unversioned = {k: v for k, v in progress.to_wire().items() if k != "version"}
    assert Progress.from_wire(unversioned).version == 1
    # A run keeps its version through its segments and replays.
    older = Progress.from_wire(unversioned)
    assert older.for_replay("lead:1:f:v2/replay1").version == 1
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


def test_a_stranded_segment_is_swept_only_where_its_run_stands() -> None:
    run = "lead:1:f:v1"
    second = Progress(run, segment=2)
    # The run's row names the segment (it wrote no end, or the sweep did), or the one before;
    # any other id (a later segment, a replay's fork) means the run went on.
    assert _standing_ids(run, Progress(run)) == [run]
    assert _standing_ids(f"{run}/2", second) == [f"{run}/2", f"{run}/1"]
    # A fork runs with the failed segment's progress but its own id: only its own id counts.
    assert _standing_ids(f"{run}/replay1", second) == [f"{run}/replay1"]
    assert _standing_ids(f"{run}/2", None) == [f"{run}/2"]


def test_a_replay_of_a_stranded_segment_starts_where_it_failed() -> None:
    ok, failed = {"function_id": 1, "error": None}, {"function_id": 2, "error": "boom"}
    assert _replay_from([]) == 1
    assert _replay_from([ok]) == 2  # every checkpoint kept
    # A step's exception is checkpointed too: a fork that kept it would raise it again.
    assert _replay_from([ok, failed]) == 2
