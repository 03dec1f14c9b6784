"""Segments that ended in a DBOS error, found and sent to the inbox with the error.

A segment's own failures end it one of three ways (done, a retry, the inbox), each written to
the run. An error of its *code* ends the workflow in DBOS's `ERROR` instead: the database gone
in the middle of the run's journal write, a defect, a worker of an older leadwire meeting
checkpoints of a newer one. So does DBOS giving up recovering a segment that kept killing its
worker (`MAX_RECOVERY_ATTEMPTS_EXCEEDED`). Nothing else would say such a run stopped: it would
sit "queued" or "retrying" for good. Every worker's housekeeping sweeps for them and opens an
inbox item for each, so every lead is accounted for: landed, or in the inbox with a reason.

The item's replay forks the segment after its last checkpoint: what its steps did is kept (the
calls they made are not made again), and its code runs again from there.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

from dbos import DBOSClient
from sqlalchemy import Engine, select

from leadwire.engine.runtime.jobs import (
    CallOutcome,
    CallRecord,
    LeadJob,
    Progress,
    segment_id_for,
)
from leadwire.engine.runtime.journal import INBOX, RUNS, SegmentEnd, write_segment_end
from leadwire.engine.runtime.workflow import WORKFLOW_NAME
from leadwire.store.models.runs import RunStatus

log = logging.getLogger(__name__)

STRANDED = ["ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]
# The timeline's name for where such a run stopped: in the workflow's code, not in a call.
STRANDED_STEP = "workflow"
# How often a worker sweeps: an error is rare; a minute is soon enough to be told.
SWEEP_INTERVAL_S = 60.0
_SETTLED = (RunStatus.SUCCEEDED.value, RunStatus.DISMISSED.value)


def sweep_stranded(engine: Engine, client: DBOSClient, *, limit: int = 200) -> list[str]:
    """Open an inbox item for each stranded segment (newest first); return the runs opened."""
    found = client.list_workflows(
        name=WORKFLOW_NAME, status=STRANDED, limit=limit, sort_desc=True, load_output=True
    )
    opened = []
    for status in found:
        run_id = _open(engine, client, status)
        if run_id is not None:
            opened.append(run_id)
    return opened


def _open(engine: Engine, client: DBOSClient, status: Any) -> str | None:
    workflow_id = str(status.workflow_id)
    args = list((status.input or {}).get("args") or [])
    job = _job(engine, workflow_id, args)
    if job is None:
        log.error("stranded.unknown workflow=%s: not a run of this database", workflow_id)
        return None
    progress = _progress(args)
    with engine.connect() as conn:
        run = conn.execute(
            select(RUNS.c.status, RUNS.c.workflow_id).where(RUNS.c.run_id == job.run_id)
        ).first()
        item_of = conn.scalar(select(INBOX.c.workflow_id).where(INBOX.c.run_id == job.run_id))
    if run is not None and (
        run.status in _SETTLED or not _is_current(run.workflow_id, workflow_id, progress)
    ):
        return None  # the run landed, was closed, or went on in a later segment or replay
    if item_of == workflow_id:
        return None  # this very segment is in the inbox already
    if progress is None:  # unreadable: the item says the run stopped at its first call
        progress = Progress(chain=job.run_id)
    steps = client.list_workflow_steps(workflow_id)
    now_ms = int(time.time() * 1000)
    failure = CallRecord(
        index=progress.next_index,
        step_id=STRANDED_STEP,
        summary="the run's workflow code",
        outcome=CallOutcome.FATAL,
        started_ms=now_ms,
        duration_ms=0,
        error_type=_error_type(status),
        error_message=_error_message(status),
    )
    write_segment_end(
        engine,
        SegmentEnd(
            job=job,
            workflow_id=workflow_id,
            status=RunStatus.NEEDS_ATTENTION,
            records=[],
            prior_attempts=0,
            tries=progress.tries,
            crm_ids=progress.crm_ids,
            ended_ms=now_ms,
            failure=failure,
            failure_attempts=1,
            first_failure_ms=now_ms,
            # A replay keeps every checkpoint the segment made.
            function_id=max((int(s["function_id"]) for s in steps), default=0) + 1,
        ),
    )
    log.warning(
        "run.needs_attention run=%s workflow=%s error=%s (the segment's code failed)",
        job.run_id,
        workflow_id,
        failure.error_type,
    )
    return job.run_id


def _job(engine: Engine, workflow_id: str, args: list[Any]) -> LeadJob | None:
    """The segment's job from its input, or else from its run's row."""
    try:
        return LeadJob.from_wire(dict(args[0]))
    except (IndexError, KeyError, TypeError, ValueError):
        pass
    # Segment and replay ids are the run id and a suffix after "/" (jobs.segment_id_for).
    run_id = workflow_id.split("/", 1)[0]
    with engine.connect() as conn:
        row = conn.execute(select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
    if row is None:
        return None
    return LeadJob(
        run_id=row["run_id"],
        lead_id=row["lead_id"],
        flow_id=row["flow_id"],
        flow_version=row["flow_version"],
        location_id=row["location_id"],
        payload={},
        received_ms=int(row["received_at"].timestamp() * 1000),
    )


def _is_current(run_workflow_id: str, workflow_id: str, progress: Progress | None) -> bool:
    """Whether the failed segment is where the run stands: the run's row names it, or (it
    never wrote its end) the segment before it in its chain. A replay sets the row to its
    fork's id before the fork starts."""
    if run_workflow_id == workflow_id:
        return True
    if progress is None or progress.segment < 1 or workflow_id != progress.expected_workflow_id:
        return False
    return run_workflow_id == segment_id_for(progress.chain, progress.segment - 1)


def _progress(args: list[Any]) -> Progress | None:
    try:
        return Progress.from_wire(dict(args[1]))
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _error_type(status: Any) -> str:
    if status.status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        return "RecoveryAttemptsExceeded"
    return type(status.error).__name__ if status.error is not None else "WorkflowError"


def _error_message(status: Any) -> str:
    if status.status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        return (
            "DBOS stopped recovering this segment: its worker died every time it ran it "
            "(out of memory, or killed); replay it once the cause is fixed"
        )
    error = status.error
    return f"the segment's code failed: {error}" if error is not None else "the segment failed"


class Sweeper:
    """Sweeps for stranded segments every so often; a worker runs it in a thread."""

    def __init__(self, engine: Engine, client: DBOSClient) -> None:
        self._engine = engine
        self._client = client

    def run_forever(self, stop: threading.Event, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Sweep now and every `interval_s` until `stop` is set; a failed sweep waits its turn."""
        while not stop.is_set():
            try:
                sweep_stranded(self._engine, self._client)
            except Exception:
                # The database may be briefly unreachable: the next round tries again.
                log.exception("stranded.sweep_failed")
            if stop.wait(interval_s):
                return
