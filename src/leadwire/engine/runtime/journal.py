"""The run timeline and the needs-attention inbox, written cheaply.

A run costs the timeline two writes: its row is inserted by intake in the transaction that
enqueues its workflow, and each workflow segment ends with one transaction that updates the
run, upserts the steps it attempted and, when the run needs a person, its inbox row. Every
write is an upsert of values fixed by the segment's checkpoints, so DBOS re-executing a
segment's code on recovery writes the same rows again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Table

from leadwire.engine.runtime.jobs import CallOutcome, CallRecord, LeadJob
from leadwire.store.models.runs import (
    InboxRow,
    InboxStatus,
    RunRow,
    RunStatus,
    RunStepRow,
    StepStatus,
)
from leadwire.store.upserts import insert_new, upsert

RUNS: Table = RunRow.__table__  # type: ignore[assignment]
STEPS: Table = RunStepRow.__table__  # type: ignore[assignment]
INBOX: Table = InboxRow.__table__  # type: ignore[assignment]

_MAX_MESSAGE = 2000
_STEP_STATUS = {
    CallOutcome.OK: StepStatus.OK,
    CallOutcome.RETRY: StepStatus.RETRYING,
    CallOutcome.FATAL: StepStatus.FAILED,
}


def at_ms(ms: int) -> datetime:
    """Return epoch milliseconds as an aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, UTC)


def clip(message: str | None) -> str | None:
    """Bound an error message's length for storage."""
    return None if message is None else message[:_MAX_MESSAGE]


def _upsert(
    conn: Connection,
    table: Table,
    rows: Sequence[Mapping[str, Any]],
    keys: Sequence[str],
    *,
    keep: Sequence[str] = (),
) -> None:
    """Insert `rows`, or update every column but `keys` and `keep` of those already there."""
    if not rows:
        return
    columns = [c for c in rows[0] if c not in keys and c not in keep]
    conn.execute(upsert(conn, table, keys, columns), list(rows))


def insert_queued_runs(
    conn: Connection, jobs: Sequence[LeadJob], emails: Mapping[str, str | None] | None = None
) -> None:
    """Record runs just accepted, in the caller's (intake) transaction; `emails` by run id."""
    if not jobs:
        return
    rows: list[dict[str, Any]] = [
        {
            "run_id": job.run_id,
            "lead_id": job.lead_id,
            "email": (emails or {}).get(job.run_id),
            "flow_id": job.flow_id,
            "flow_version": job.flow_version,
            "location_id": job.location_id,
            "status": RunStatus.QUEUED.value,
            "workflow_id": job.run_id,
            "attempts": 0,
            "received_at": at_ms(job.received_ms),
            "updated_at": at_ms(job.received_ms),
            "finished_at": None,
            "next_attempt_at": None,
            "error_type": None,
            "error_message": None,
            "crm_ids": {},
        }
        for job in jobs
    ]
    conn.execute(insert_new(conn, RUNS, ["run_id"]), rows)


@dataclass(frozen=True, slots=True)
class SegmentEnd:
    """How a workflow segment ended, and what it attempted."""

    job: LeadJob
    workflow_id: str
    status: RunStatus
    records: Sequence[CallRecord]
    # Failures of the first record's call before this segment (it may be a retry).
    prior_attempts: int
    tries: int
    crm_ids: Mapping[str, str]
    ended_ms: int
    next_attempt_ms: int | None = None
    failure: CallRecord | None = None
    # Set when the segment ended to wait for its location's rate budget (not a failure).
    wait: CallRecord | None = None
    failure_attempts: int = 0
    first_failure_ms: int | None = None
    function_id: int = 1


def _step_rows(end: SegmentEnd) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for n, record in enumerate(end.records):
        rows.append(
            {
                "run_id": end.job.run_id,
                "position": record.index,
                "step_id": record.step_id,
                "status": _STEP_STATUS[record.outcome].value,
                "summary": record.summary
                if record.result in ("", record.summary)
                else f"{record.summary} → {record.result}",
                "outputs": dict(record.outputs),
                "crm_ids": dict(record.crm_ids),
                "error_type": record.error_type,
                "error_message": clip(record.error_message),
                "attempts": end.prior_attempts + 1 if n == 0 else 1,
                "duration_ms": record.duration_ms,
                "started_at": at_ms(record.started_ms),
                "workflow_id": end.workflow_id,
            }
        )
    return rows


def _run_row(end: SegmentEnd) -> dict[str, Any]:
    job, failure = end.job, end.failure or end.wait
    finished = end.status in (RunStatus.SUCCEEDED, RunStatus.NEEDS_ATTENTION)
    return {
        "run_id": job.run_id,
        "lead_id": job.lead_id,
        "flow_id": job.flow_id,
        "flow_version": job.flow_version,
        "location_id": job.location_id,
        "status": end.status.value,
        "workflow_id": end.workflow_id,
        "attempts": end.tries + 1,
        "received_at": at_ms(job.received_ms),
        "updated_at": at_ms(end.ended_ms),
        "finished_at": at_ms(end.ended_ms) if finished else None,
        "next_attempt_at": at_ms(end.next_attempt_ms) if end.next_attempt_ms else None,
        "error_type": failure.error_type if failure else None,
        "error_message": clip(failure.error_message) if failure else None,
        "crm_ids": dict(end.crm_ids),
    }


def _inbox_row(end: SegmentEnd, failure: CallRecord) -> dict[str, Any]:
    job = end.job
    return {
        "run_id": job.run_id,
        "lead_id": job.lead_id,
        "flow_id": job.flow_id,
        "flow_version": job.flow_version,
        "location_id": job.location_id,
        "failed_step": failure.step_id,
        "step_position": failure.index,
        "error_type": failure.error_type or "Error",
        "error_message": clip(failure.error_message) or "",
        "attempts": end.failure_attempts,
        "first_failed_at": at_ms(end.first_failure_ms or failure.finished_ms),
        "last_failed_at": at_ms(failure.finished_ms),
        "status": InboxStatus.OPEN.value,
        "workflow_id": end.workflow_id,
        "function_id": end.function_id,
        "replays": 0,
        "updated_at": at_ms(end.ended_ms),
    }


def write_segment_end(engine: Engine, end: SegmentEnd) -> None:
    """Record a segment's end: run row, attempted steps and, if it needs a person, the inbox."""
    with engine.begin() as conn:
        record_segment_end(conn, end)


def record_segment_end(conn: Connection, end: SegmentEnd) -> None:
    """`write_segment_end` in the caller's transaction."""
    # The run row first: the step and inbox rows refer to it.
    _upsert(conn, RUNS, [_run_row(end)], ["run_id"], keep=["received_at"])
    _upsert(conn, STEPS, _step_rows(end), ["run_id", "position"])
    if end.status is RunStatus.NEEDS_ATTENTION and end.failure is not None:
        # A run failing again after a replay reopens its item; its first failure stays.
        _upsert(
            conn,
            INBOX,
            [_inbox_row(end, end.failure)],
            ["run_id"],
            keep=["first_failed_at", "replays"],
        )
