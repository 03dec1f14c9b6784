"""Run history: search runs, a run's timeline, counts by status — the CLI's and the API's.

Reads the timeline tables the engine writes (`leadwire.engine.runtime.journal`), in read-only
sessions. Listings are newest first with keyset pagination, so a page costs the same however
deep it is and runs received meanwhile never shift a page.
"""

from __future__ import annotations

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from leadwire.engine.history.cursor import decode_cursor, encode_cursor
from leadwire.engine.history.model import (
    RunFilter,
    RunPage,
    RunSummary,
    StatusCounts,
    StepView,
    Timeline,
)
from leadwire.engine.runtime.replay import InboxItem
from leadwire.store.models.runs import (
    InboxRow,
    InboxStatus,
    RunRow,
    RunStatus,
    RunStepRow,
    StepStatus,
)


def normalize_email(email: str) -> str:
    """Return an e-mail as runs keep it for search: trimmed, lower-case."""
    return email.strip().lower()


def search_runs(session: Session, wanted: RunFilter) -> RunPage:
    """Return a page of the runs `wanted` asks for, newest first (`CursorError` on a bad cursor)."""
    query = select(RunRow)
    if wanted.lead_id is not None:
        query = query.where(RunRow.lead_id == wanted.lead_id.strip())
    if wanted.email is not None:
        query = query.where(RunRow.email == normalize_email(wanted.email))
    if wanted.status is not None:
        query = query.where(RunRow.status == wanted.status.value)
    if wanted.flow_id is not None:
        query = query.where(RunRow.flow_id == wanted.flow_id)
    if wanted.cursor is not None:
        at, run_id = decode_cursor(wanted.cursor)
        query = query.where(
            or_(
                RunRow.received_at < at,
                and_(RunRow.received_at == at, RunRow.run_id < run_id),
            )
        )
    query = query.order_by(RunRow.received_at.desc(), RunRow.run_id.desc())
    rows = session.scalars(query.limit(wanted.limit + 1)).all()
    shown = [to_summary(row) for row in rows[: wanted.limit]]
    more = len(rows) > wanted.limit
    cursor = encode_cursor(shown[-1].received_at, shown[-1].run_id) if more else None
    return RunPage(tuple(shown), cursor)


def load_timeline(session: Session, run_id: str) -> Timeline | None:
    """Return a run's timeline (its steps in order, its inbox item), or None if no such run."""
    row = session.get(RunRow, run_id)
    if row is None:
        return None
    steps = session.scalars(
        select(RunStepRow).where(RunStepRow.run_id == run_id).order_by(RunStepRow.position)
    ).all()
    inbox = session.get(InboxRow, run_id)
    return Timeline(
        run=to_summary(row),
        steps=tuple(_step(step) for step in steps),
        inbox=None if inbox is None else to_inbox_item(inbox),
    )


def find_inbox_item(session: Session, run_id: str) -> InboxItem | None:
    """Return a run's inbox item, whatever its status, or None."""
    row = session.get(InboxRow, run_id)
    return None if row is None else to_inbox_item(row)


def count_open_inbox(session: Session, *, flow_id: str | None = None) -> int:
    """Return how many inbox items are open (of one flow, if given)."""
    query = select(func.count()).select_from(InboxRow)
    query = query.where(InboxRow.status == InboxStatus.OPEN.value)
    if flow_id is not None:
        query = query.where(InboxRow.flow_id == flow_id)
    return int(session.scalar(query) or 0)


def count_runs(session: Session) -> StatusCounts:
    """Return the number of runs in each status (every status listed) and of open items."""
    counts = {status.value: 0 for status in RunStatus}
    rows = session.execute(select(RunRow.status, func.count()).group_by(RunRow.status)).all()
    for status, count in rows:
        counts[status] = int(count)
    return StatusCounts(runs=counts, inbox_open=count_open_inbox(session))


def to_summary(row: RunRow) -> RunSummary:
    """Return a run row as listed."""
    return RunSummary(
        run_id=row.run_id,
        lead_id=row.lead_id,
        email=row.email,
        flow_id=row.flow_id,
        flow_version=row.flow_version,
        location_id=row.location_id,
        status=RunStatus(row.status),
        workflow_id=row.workflow_id,
        attempts=row.attempts,
        received_at=row.received_at,
        updated_at=row.updated_at,
        finished_at=row.finished_at,
        next_attempt_at=row.next_attempt_at,
        error_type=row.error_type,
        error_message=row.error_message,
        crm_ids={str(k): str(v) for k, v in (row.crm_ids or {}).items()},
    )


def to_inbox_item(row: InboxRow) -> InboxItem:
    """Return an inbox row as the inbox shows it."""
    return InboxItem.of(row)


def _step(row: RunStepRow) -> StepView:
    return StepView(
        position=row.position,
        step_id=row.step_id,
        status=StepStatus(row.status),
        summary=row.summary,
        outputs={str(k): str(v) for k, v in (row.outputs or {}).items()},
        crm_ids={str(k): str(v) for k, v in (row.crm_ids or {}).items()},
        error_type=row.error_type,
        error_message=row.error_message,
        attempts=row.attempts,
        duration_ms=row.duration_ms,
        started_at=row.started_at,
        workflow_id=row.workflow_id,
    )
