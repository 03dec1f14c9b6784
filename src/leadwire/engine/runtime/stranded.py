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
from datetime import UTC, datetime, timedelta
from typing import Any

from dbos import DBOSClient
from sqlalchemy import Engine, exists, select, update

from leadwire.engine.runtime.housekeeping import every
from leadwire.engine.runtime.jobs import (
    CallOutcome,
    CallRecord,
    LeadJob,
    Progress,
    segment_id_for,
)
from leadwire.engine.runtime.journal import INBOX, RUNS, SegmentEnd, record_segment_end
from leadwire.engine.runtime.retention import FINISHED
from leadwire.engine.runtime.workflow import WORKFLOW_NAME
from leadwire.store.models.runs import RunStatus

log = logging.getLogger(__name__)

STRANDED = ["ERROR", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"]
# The timeline's name for where such a run stopped: in the workflow's code, not in a call.
STRANDED_STEP = "workflow"
# How often a worker sweeps: an error is rare; a minute is soon enough to be told.
SWEEP_INTERVAL_S = 60.0
# A sweep looks at segments that ended since the last sweep began, less this margin (workers'
# clocks and the database's may differ a little); the first sweep of a worker looks at all.
_OVERLAP_S = 300.0
_PAGE = 200


def sweep_stranded(
    engine: Engine, client: DBOSClient, *, ended_after: datetime | None = None
) -> list[str]:
    """Open an inbox item for each stranded segment that ended after `ended_after` (all, if
    None); return the runs opened. A segment that cannot be handled is logged and skipped."""
    opened = []
    offset = 0
    while True:
        page = client.list_workflows(
            name=WORKFLOW_NAME,
            status=STRANDED,
            completed_after=ended_after.isoformat() if ended_after else None,
            limit=_PAGE,
            offset=offset,
            load_output=False,
        )
        for status in page:
            try:
                run_id = _open(engine, client, status)
            except Exception:
                log.exception("stranded.open_failed workflow=%s", status.workflow_id)
                continue
            if run_id is not None:
                opened.append(run_id)
        if len(page) < _PAGE:
            return opened
        offset += _PAGE


def _open(engine: Engine, client: DBOSClient, status: Any) -> str | None:
    workflow_id = str(status.workflow_id)
    # DBOS hands over an input it could not read as text: then only the run's row tells.
    inputs = status.input if isinstance(status.input, dict) else {}
    args = list(inputs.get("args") or [])
    progress = _progress(args)
    run_id = _run_id(workflow_id, args)
    standing = _standing_ids(workflow_id, progress)
    # A look first, without a lock: most stranded segments were handled rounds ago.
    with engine.connect() as conn:
        run = conn.execute(select(RUNS).where(RUNS.c.run_id == run_id)).mappings().first()
        item_of = conn.scalar(select(INBOX.c.workflow_id).where(INBOX.c.run_id == run_id))
    if run is None or run["status"] in FINISHED or run["workflow_id"] not in standing:
        return None  # pruned, landed, closed, or went on in a later segment or replay
    if item_of == workflow_id:
        return None  # this very segment is in the inbox already
    # DBOS is asked before the write below takes its lock (SQLite: DBOS would wait for it).
    end = _end(client, workflow_id, status.status, _job(run, args), progress)
    with engine.begin() as conn:
        # Claimed by a write that checks the same again: it takes the write lock (SQLite) or
        # the row's (PostgreSQL) first, so a replay or a dismissal of the item either
        # committed before (and the run went on) or waits for this to commit.
        claimed = conn.execute(
            update(RUNS)
            .where(
                RUNS.c.run_id == run_id,
                RUNS.c.status.not_in(FINISHED),
                RUNS.c.workflow_id.in_(standing),
                ~exists().where(INBOX.c.run_id == run_id, INBOX.c.workflow_id == workflow_id),
            )
            .values(updated_at=RUNS.c.updated_at)
        ).rowcount
        if not claimed:
            return None
        record_segment_end(conn, end)
    log.warning(
        "run.needs_attention run=%s workflow=%s error=%s (the segment's code failed)",
        end.job.run_id,
        workflow_id,
        end.failure.error_type if end.failure else None,
    )
    return end.job.run_id


def _end(
    client: DBOSClient, workflow_id: str, dbos_status: str, job: LeadJob, progress: Progress | None
) -> SegmentEnd:
    progress = progress or Progress(chain=job.run_id)  # unreadable: at its first call
    found = client.list_workflows(workflow_ids=[workflow_id], load_input=False, load_output=True)
    error = found[0].error if found else None
    now_ms = int(time.time() * 1000)
    failure = CallRecord(
        index=progress.next_index,
        step_id=STRANDED_STEP,
        summary="the run's workflow code",
        outcome=CallOutcome.FATAL,
        started_ms=now_ms,
        duration_ms=0,
        error_type=_error_type(dbos_status, error),
        error_message=_error_message(dbos_status, error),
    )
    return SegmentEnd(
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
        function_id=_replay_from(client.list_workflow_steps(workflow_id)),
    )


def _replay_from(steps: list[Any]) -> int:
    """The step a replay starts at: the first that recorded an error (DBOS checkpoints a
    step's exception, and a fork would raise it again), else the one after the last."""
    failed = [int(s["function_id"]) for s in steps if s.get("error") is not None]
    if failed:
        return min(failed)
    return max((int(s["function_id"]) for s in steps), default=0) + 1


def _run_id(workflow_id: str, args: list[Any]) -> str:
    try:
        return str(dict(args[0])["run_id"])
    except (IndexError, KeyError, TypeError, ValueError):
        # Segment and replay ids are the run id and a suffix after "/" (jobs.segment_id_for).
        return workflow_id.split("/", 1)[0]


def _job(run: Any, args: list[Any]) -> LeadJob:
    """The segment's job from its input, or else from its run's row."""
    try:
        return LeadJob.from_wire(dict(args[0]))
    except (IndexError, KeyError, TypeError, ValueError):
        return LeadJob(
            run_id=run["run_id"],
            lead_id=run["lead_id"],
            flow_id=run["flow_id"],
            flow_version=run["flow_version"],
            location_id=run["location_id"],
            payload={},
            received_ms=int(run["received_at"].timestamp() * 1000),
        )


def _standing_ids(workflow_id: str, progress: Progress | None) -> list[str]:
    """The workflow ids a run's row names while the failed segment is where the run stands:
    the segment's own (a replay sets the row to its fork's id before the fork starts), or the
    one before it in its chain (the failed segment never wrote its end)."""
    if progress is None or progress.segment < 1 or workflow_id != progress.expected_workflow_id:
        return [workflow_id]
    return [workflow_id, segment_id_for(progress.chain, progress.segment - 1)]


def _progress(args: list[Any]) -> Progress | None:
    try:
        return Progress.from_wire(dict(args[1]))
    except (IndexError, KeyError, TypeError, ValueError):
        return None


def _error_type(dbos_status: str, error: BaseException | None) -> str:
    if dbos_status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        return "RecoveryAttemptsExceeded"
    return type(error).__name__ if error is not None else "WorkflowError"


def _error_message(dbos_status: str, error: BaseException | None) -> str:
    if dbos_status == "MAX_RECOVERY_ATTEMPTS_EXCEEDED":
        return (
            "DBOS stopped recovering this segment: its worker died every time it ran it "
            "(out of memory, or killed); replay it once the cause is fixed"
        )
    try:
        text = str(error) if error is not None else ""
    except Exception:  # an exception that cannot even say what it is
        text = ""
    return f"the segment's code failed: {text or type(error).__name__}"


class Sweeper:
    """Sweeps for stranded segments every so often; a worker runs it in a thread."""

    def __init__(self, engine: Engine, client: DBOSClient) -> None:
        self._engine = engine
        self._client = client
        self._since: datetime | None = None

    def sweep(self) -> list[str]:
        """Sweep the segments that ended since the last sweep began (all, the first time)."""
        began = datetime.now(UTC)
        opened = sweep_stranded(self._engine, self._client, ended_after=self._since)
        self._since = began - timedelta(seconds=_OVERLAP_S)
        return opened

    def run_forever(self, stop: threading.Event, interval_s: float = SWEEP_INTERVAL_S) -> None:
        """Sweep now and every `interval_s` until `stop` is set; a failed sweep waits its turn."""
        every(stop, interval_s, self.sweep, "stranded.sweep")
