"""The per-lead workflow: run the lead's calls as checkpointed steps, then end the segment.

Registered with DBOS at import, so every process that runs or enqueues it agrees on its name.
Workflow code is deterministic given its inputs and its steps' checkpoints: every time it reads
comes from a checkpoint (a call record's timestamps), every id is derived, and the jitter of a
backoff is a hash. DBOS may execute it again after a crash and it makes the same decisions.

A run's first segment prepares it (what planning needs besides the payload: the time the lead
was received, and the executor's look-ups). An answer from outside is checkpointed in its own
step, so a replay forked from a later step keeps it and every re-plan gives the same calls;
without look-ups, preparing is a pure function of the lead and simply done again, sparing the
lead a checkpoint (two statements and a write transaction, ~15 % of a worker's CPU per lead).
(Folding the look-up into the first calls step would save that checkpoint too, but a replay of
a failure there would look up again and could meet its own idempotency keys with other bodies.)
Every later segment carries the prepared data.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from dbos import DBOS

from leadwire.engine.runtime.backoff import is_exhausted, retry_delay_s
from leadwire.engine.runtime.calls import error_of, run_calls
from leadwire.engine.runtime.context import SegmentContext, current
from leadwire.engine.runtime.contracts import StepCall
from leadwire.engine.runtime.jobs import (
    CallOutcome,
    CallRecord,
    LeadJob,
    Progress,
    segment_id_for,
)
from leadwire.engine.runtime.journal import SegmentEnd, write_segment_end
from leadwire.store.models.runs import RunStatus

log = logging.getLogger(__name__)

WORKFLOW_NAME = "leadwire.lead_segment"
STEP_NAME = "crm-calls"
PREPARE_STEP_NAME = "prepare"
PLAN_STEP_ID = "plan"
PREPARE_STEP_ID = "prepare"


@DBOS.workflow(name=WORKFLOW_NAME)
def lead_segment(job: dict[str, Any], progress: dict[str, Any]) -> dict[str, Any]:
    """Run one segment of a lead's run (the DBOS workflow)."""
    return run_segment(current(), LeadJob.from_wire(job), Progress.from_wire(progress))


def _calls_step(
    location_id: str, ticket: str, start: int, calls: Sequence[StepCall], bindings: dict[str, str]
) -> dict[str, Any]:
    """The DBOS step of a segment's calls."""
    return run_calls(current(), location_id, ticket, start, calls, bindings)


def _prepare_step(payload: dict[str, Any], received_ms: int) -> dict[str, Any]:
    """Ask the executor for what planning needs; never raises (a DBOS step, or not)."""
    try:
        return {"prepared": current().executor.prepare(payload, received_ms)}
    except Exception as exc:
        log.exception("run.prepare_failed")
        return error_of(exc)


def _failed_before_calls(
    job: LeadJob, start: int, step_id: str, error: dict[str, Any]
) -> CallRecord:
    return CallRecord(
        index=start,
        step_id=step_id,
        summary=f"{step_id} the lead's calls",
        outcome=CallOutcome.FATAL,
        started_ms=job.received_ms,
        duration_ms=0,
        error_type=str(error["error_type"]),
        error_message=str(error["error_message"]),
    )


def _plan(
    ctx: SegmentContext, job: LeadJob, prepared: dict[str, Any], start: int
) -> Sequence[StepCall] | CallRecord:
    try:
        return list(ctx.executor.plan(job.payload, prepared))
    except Exception as exc:
        # Planning is a function of the payload and the prepared data (and of published flow
        # versions, which never change): replaying it cannot help by itself.
        return _failed_before_calls(job, start, PLAN_STEP_ID, error_of(exc))


def _planned(
    ctx: SegmentContext, job: LeadJob, progress: Progress
) -> tuple[Progress, Sequence[StepCall] | CallRecord]:
    """Return the segment's progress with the run's prepared data (prepared in its first
    segment, a checkpointed step), and its plan."""
    prepared = progress.prepared
    if prepared is None:
        # Runs started before version 2 checkpointed `prepare` first, always (see jobs).
        if progress.version < 2 or ctx.executor.looks_up(job.payload):
            out = DBOS.run_step(
                {"name": PREPARE_STEP_NAME}, _prepare_step, job.payload, job.received_ms
            )
        else:
            out = _prepare_step(job.payload, job.received_ms)
        if "prepared" not in out:
            return progress, _failed_before_calls(job, progress.next_index, PREPARE_STEP_ID, out)
        prepared = dict(out["prepared"])
        progress = replace(progress, prepared=prepared)
    return progress, _plan(ctx, job, prepared, progress.next_index)


def run_segment(ctx: SegmentContext, job: LeadJob, progress: Progress) -> dict[str, Any]:
    """Run the calls from `progress.next_index` on, then end the segment one of three ways."""
    own_id = DBOS.workflow_id or progress.expected_workflow_id
    if own_id != progress.expected_workflow_id:
        # A fork made by a replay: it runs with the failed segment's inputs, and a fresh budget.
        progress = progress.for_replay(own_id)
    progress, planned = _planned(ctx, job, progress)
    records: list[CallRecord] = []
    failure: CallRecord | None = None
    pause_s: float | None = None
    function_id = 1
    index, bindings, crm_ids = progress.next_index, dict(progress.bindings), dict(progress.crm_ids)
    if isinstance(planned, CallRecord):
        failure = planned
        records.append(planned)
        planned = []
    while failure is None and not pause_s and index < len(planned):
        out = DBOS.run_step(
            {"name": STEP_NAME},
            _calls_step,
            job.location_id,
            job.run_id,
            index,
            planned[index : index + ctx.calls_per_step],
            bindings,
        )
        function_id = int(out["function_id"])
        for wire in out["records"]:
            record = CallRecord.from_wire(wire)
            records.append(record)
            if record.outcome is not CallOutcome.OK:
                failure = record
                break
            bindings.update(record.outputs)
            crm_ids.update(record.crm_ids)
            index += 1
            pause_s = record.resume_after_s
    if pause_s and index >= len(planned):
        pause_s = None  # a pause with nothing after it ends nothing
    done = _Done(own_id, records, failure, function_id, bindings, crm_ids, index, pause_s)
    end = _end_segment(ctx, job, progress, done)
    return {"status": end.status.value, "workflow_id": own_id, "next_index": index}


@dataclass(frozen=True, slots=True)
class _Done:
    """What a segment did: its attempts, where it stopped, and what it learnt."""

    workflow_id: str
    records: list[CallRecord]
    failure: CallRecord | None
    function_id: int
    bindings: dict[str, str]
    crm_ids: dict[str, str]
    next_index: int
    pause_s: float | None


def _end_segment(ctx: SegmentContext, job: LeadJob, progress: Progress, done: _Done) -> SegmentEnd:
    """Succeed, reschedule after a backoff, or send the run to the inbox; record which."""
    records, failure = done.records, done.failure
    prior = progress.attempts if records and records[0].index == progress.next_index else 0
    common: dict[str, Any] = {
        "job": job,
        "workflow_id": done.workflow_id,
        "records": records,
        "prior_attempts": prior,
        "tries": progress.tries,
        "crm_ids": done.crm_ids,
    }
    if failure is None and done.pause_s:
        ended = _ended(records, job)
        following = _following(
            progress, done, done.next_index, attempts=0, first_failure_ms=None, counted=True
        )
        end = SegmentEnd(
            status=RunStatus.WAITING,
            ended_ms=ended,
            next_attempt_ms=ended + int(done.pause_s * 1000),
            **common,
        )
        return _hand_over(ctx, job, end, following, done.pause_s)
    if failure is None:
        end = SegmentEnd(status=RunStatus.SUCCEEDED, ended_ms=_ended(records, job), **common)
        write_segment_end(ctx.engine, end)
        return end
    if failure.outcome is CallOutcome.WAIT:
        return _wait_for_budget(ctx, job, progress, done, failure, common)
    same_call = failure.index == progress.next_index
    attempts = progress.attempts + 1 if same_call else 1
    first_ms = progress.first_failure_ms if same_call and progress.first_failure_ms else None
    first_ms = first_ms or failure.finished_ms
    failed: dict[str, Any] = {
        "failure": failure,
        "failure_attempts": attempts,
        "first_failure_ms": first_ms,
        "function_id": done.function_id,
        "ended_ms": failure.finished_ms,
    }
    if failure.outcome is CallOutcome.RETRY:
        delay = retry_delay_s(
            ctx.retry,
            attempts,
            seed=f"{job.run_id}#{failure.index}",
            retry_after_s=failure.retry_after_s,
        )
        next_ms = failure.finished_ms + int(delay * 1000)
        if not is_exhausted(ctx.retry, first_failure_s=first_ms / 1000, next_try_s=next_ms / 1000):
            following = _following(
                progress, done, failure.index, attempts=attempts, first_failure_ms=first_ms
            )
            end = SegmentEnd(status=RunStatus.RETRYING, next_attempt_ms=next_ms, **common, **failed)
            return _hand_over(ctx, job, end, following, delay)
        failure = _exhausted(failure, attempts)
        failed["failure"] = failure
        common["records"] = [*records[:-1], failure]
    end = SegmentEnd(status=RunStatus.NEEDS_ATTENTION, **common, **failed)
    write_segment_end(ctx.engine, end)
    log.warning(
        "run.needs_attention run=%s step=%s error=%s",
        job.run_id,
        failure.step_id,
        failure.error_type,
    )
    return end


def _wait_for_budget(
    ctx: SegmentContext,
    job: LeadJob,
    progress: Progress,
    done: _Done,
    wait: CallRecord,
    common: dict[str, Any],
) -> SegmentEnd:
    """Come back at the turn the throttle gave: not a failure, so no attempt is counted."""
    moved_on = wait.index != progress.next_index
    made = [r for r in done.records if r.outcome is not CallOutcome.WAIT]
    following = _following(
        progress,
        done,
        wait.index,
        # Failures counted so far were the earlier call's, which has since succeeded.
        attempts=0 if moved_on else progress.attempts,
        first_failure_ms=None if moved_on else progress.first_failure_ms,
        # Waiting for the budget is no try, whatever calls the segment made before it.
        counted=False,
    )
    delay = wait.retry_after_s or 0.001
    common["records"] = made
    end = SegmentEnd(
        status=RunStatus.WAITING,
        ended_ms=wait.finished_ms,
        next_attempt_ms=wait.finished_ms + int(delay * 1000),
        wait=wait,
        **common,
    )
    return _hand_over(ctx, job, end, following, delay)


def _hand_over(
    ctx: SegmentContext, job: LeadJob, end: SegmentEnd, following: Progress, delay_s: float
) -> SegmentEnd:
    """Record this segment's end, then enqueue the next one.

    In that order: the next segment can start only after this end is committed, so its own
    end (a later state) is written last. (Both are done again, the same, if DBOS re-executes
    this segment after a crash; the journal is not guarded by time, since the segments of a
    run may end on workers whose clocks differ.)
    """
    write_segment_end(ctx.engine, end)
    _enqueue_following(ctx, job, following, delay_s)
    return end


def _following(
    progress: Progress,
    done: _Done,
    next_index: int,
    *,
    attempts: int,
    first_failure_ms: int | None,
    counted: bool = True,
) -> Progress:
    """The progress the run's next segment starts from; `counted`: this segment was a try."""
    return replace(
        progress,
        segment=progress.segment + 1,
        next_index=next_index,
        bindings=done.bindings,
        crm_ids=done.crm_ids,
        attempts=attempts,
        first_failure_ms=first_failure_ms,
        tries=progress.tries + 1 if counted else progress.tries,
    )


def _ended(records: list[CallRecord], job: LeadJob) -> int:
    return max((r.finished_ms for r in records), default=job.received_ms)


def _exhausted(failure: CallRecord, attempts: int) -> CallRecord:
    return CallRecord(
        index=failure.index,
        step_id=failure.step_id,
        summary=failure.summary,
        outcome=CallOutcome.FATAL,
        started_ms=failure.started_ms,
        duration_ms=failure.duration_ms,
        error_type=failure.error_type,
        error_message=f"gave up after {attempts} attempts: {failure.error_message}",
    )


def _enqueue_following(
    ctx: SegmentContext, job: LeadJob, following: Progress, delay_s: float
) -> None:
    """Enqueue the next segment to start after `delay_s`: DBOS holds it DELAYED, no thread."""
    DBOS.enqueue_workflow_with_options(
        {
            "workflow_name": WORKFLOW_NAME,
            "queue_name": ctx.queue_name,
            "workflow_id": segment_id_for(following.chain, following.segment),
            "queue_partition_key": job.location_id,
            "delay_seconds": max(delay_s, 0.001),
        },
        job.to_wire(),
        following.to_wire(),
    )
