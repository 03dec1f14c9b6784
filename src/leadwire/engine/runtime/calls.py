"""The calls step: a run's calls made in order within its location's rate budget.

One DBOS step makes up to `calls_per_step` calls and returns a record of each attempt; the
workflow code reads those records (from the checkpoint, after a crash) to decide what follows.
A call never raises out of the step: an error is an attempt's outcome.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

from dbos import DBOS

from leadwire.engine.runtime.context import SegmentContext
from leadwire.engine.runtime.contracts import StepCall
from leadwire.engine.runtime.jobs import CallOutcome, CallRecord
from leadwire.errors import FatalError, RateLimitedError, RetryableError

log = logging.getLogger(__name__)

# The error type of a segment that ended to wait for its location's rate budget.
BUDGET_WAIT = "RateBudgetWait"


def _now_ms() -> int:
    return int(time.time() * 1000)


def _attempt(
    ctx: SegmentContext, location_id: str, index: int, call: StepCall, bindings: dict[str, str]
) -> tuple[CallRecord, int]:
    """Make one call; say how it went and how many CRM requests it took. Never raises.

    A call that failed counts as all the requests it may make: which reached the CRM is
    unknown, so their slots are held as if all had.
    """
    started = _now_ms()

    def record(outcome: CallOutcome, **details: Any) -> CallRecord:
        return CallRecord(
            index=index,
            step_id=call.step_id,
            summary=call.describe(),
            outcome=outcome,
            started_ms=started,
            duration_ms=_now_ms() - started,
            **details,
        )

    try:
        result = ctx.executor.execute(call, bindings)
    except RetryableError as exc:
        if isinstance(exc, RateLimitedError):
            ctx.throttle.refuse(location_id, exc.retry_after_s)
        retry = record(CallOutcome.RETRY, **error_of(exc), retry_after_s=exc.retry_after_s)
        return retry, call.requests
    except FatalError as exc:
        return record(CallOutcome.FATAL, **error_of(exc)), call.requests
    except Exception as exc:
        # Not one of ours: a defect, or an error nobody classified. A person must look;
        # retrying for a day would only hide it.
        log.exception("step.unexpected_error step=%s", call.step_id)
        return record(CallOutcome.FATAL, **error_of(exc)), call.requests
    if result.rate is not None:
        ctx.throttle.observe(location_id, result.rate)
    done = record(
        CallOutcome.OK,
        outputs=dict(result.outputs),
        crm_ids=dict(result.crm_ids),
        result=result.summary,
        resume_after_s=result.resume_after_s,
    )
    return done, result.requests


def error_of(exc: BaseException) -> dict[str, str]:
    return {"error_type": type(exc).__name__, "error_message": str(exc) or type(exc).__name__}


def _budget_wait(index: int, call: StepCall, wait_s: float) -> CallRecord:
    return CallRecord(
        index=index,
        step_id=call.step_id,
        summary=call.describe(),
        outcome=CallOutcome.WAIT,
        started_ms=_now_ms(),
        duration_ms=0,
        error_type=BUDGET_WAIT,
        error_message=f"waiting for the location's rate budget: next call in {wait_s:.1f} s",
        retry_after_s=wait_s,
    )


def run_calls(
    ctx: SegmentContext,
    location_id: str,
    ticket: str,
    start: int,
    calls: Sequence[StepCall],
    bindings: dict[str, str],
) -> dict[str, Any]:
    """The DBOS step: make `calls` in order, stopping at the first that does not succeed.

    The calls' rate budget is taken up front, for all of them: a segment either goes or waits
    its turn whole, and never holds slots while it waits.
    """
    requests = sum(call.requests for call in calls)
    budgeted = 0
    if requests:
        admission = ctx.throttle.admit(location_id, ticket, requests)
        if not admission.granted:
            wait = _budget_wait(start, calls[0], admission.wait_s)
            return {"function_id": DBOS.step_id, "records": [wait.to_wire()]}
        # A budget smaller than the step: the rest go in the segment's next step.
        calls = _within_budget(calls, admission.granted)
        budgeted = admission.granted
    local = dict(bindings)
    records = []
    made = 0
    try:
        for offset, call in enumerate(calls):
            if call.requests:
                paused = ctx.throttle.wait_s(location_id)
                if paused > 0:  # another segment met a 429 meanwhile
                    records.append(_budget_wait(start + offset, call, paused).to_wire())
                    break
            # At most what was granted: a first call may take more (`_within_budget`).
            slots = min(call.requests, budgeted - made)
            sent = slots  # what a call stopped mid-way (BaseException) may have sent
            try:
                record, sent = _attempt(ctx, location_id, start + offset, call, local)
            finally:
                if slots:
                    made += slots
                    ctx.throttle.finished(location_id, ticket, sent, slots=slots)
            records.append(record.to_wire())
            if record.outcome is not CallOutcome.OK or record.resume_after_s:
                break
            local.update(record.outputs)
    finally:
        if budgeted:
            ctx.throttle.release(location_id, ticket, budgeted - made)
    return {"function_id": DBOS.step_id, "records": records}


def _within_budget(calls: Sequence[StepCall], limit: int) -> Sequence[StepCall]:
    """The first calls of `calls` with at most `limit` CRM requests among them (the first call
    at least: one that may make two requests goes even on a budget of one — a burst of one
    is the only such budget, and that call may then exceed it)."""
    requests = 0
    for n, call in enumerate(calls):
        requests += call.requests
        if requests > limit:
            return calls[: max(n, 1)]
    return calls
