"""The JSON API's response and request bodies (pydantic at the wire edge)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from leadwire.engine.history import RunSummary, StatusCounts, StepView, Timeline
from leadwire.engine.runtime import InboxItem
from leadwire.store.models.runs import InboxStatus, RunStatus, StepStatus


class Out(BaseModel):
    """Base of response bodies."""

    model_config = ConfigDict(frozen=True)


class RunOut(Out):
    """A run as listed."""

    run_id: str
    lead_id: str
    email: str | None
    flow_id: str
    flow_version: int
    location_id: str
    status: RunStatus
    workflow_id: str
    attempts: int
    received_at: datetime
    updated_at: datetime
    finished_at: datetime | None
    next_attempt_at: datetime | None
    latency_ms: int | None
    error_type: str | None
    error_message: str | None
    crm_ids: dict[str, str]

    @classmethod
    def of(cls, run: RunSummary) -> RunOut:
        """Return the wire form of a run."""
        return cls(
            run_id=run.run_id,
            lead_id=run.lead_id,
            email=run.email,
            flow_id=run.flow_id,
            flow_version=run.flow_version,
            location_id=run.location_id,
            status=run.status,
            workflow_id=run.workflow_id,
            attempts=run.attempts,
            received_at=run.received_at,
            updated_at=run.updated_at,
            finished_at=run.finished_at,
            next_attempt_at=run.next_attempt_at,
            latency_ms=run.latency_ms,
            error_type=run.error_type,
            error_message=run.error_message,
            crm_ids=run.crm_ids,
        )


class RunPageOut(Out):
    """Runs newest first; pass `next_cursor` as `cursor` for the next page (null: no more)."""

    runs: list[RunOut]
    next_cursor: str | None


class StepOut(Out):
    """A step of a run's timeline (its latest attempt)."""

    position: int
    step_id: str
    status: StepStatus
    summary: str
    outputs: dict[str, str]
    crm_ids: dict[str, str]
    error_type: str | None
    error_message: str | None
    attempts: int
    duration_ms: int
    started_at: datetime
    workflow_id: str

    @classmethod
    def of(cls, step: StepView) -> StepOut:
        """Return the wire form of a step."""
        return cls(
            position=step.position,
            step_id=step.step_id,
            status=step.status,
            summary=step.summary,
            outputs=step.outputs,
            crm_ids=step.crm_ids,
            error_type=step.error_type,
            error_message=step.error_message,
            attempts=step.attempts,
            duration_ms=step.duration_ms,
            started_at=step.started_at,
            workflow_id=step.workflow_id,
        )


class InboxItemOut(Out):
    """A run that needs a person, and why."""

    run_id: str
    lead_id: str
    flow_id: str
    flow_version: int
    location_id: str
    failed_step: str
    error_type: str
    error_message: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    status: InboxStatus
    replays: int

    @classmethod
    def of(cls, item: InboxItem) -> InboxItemOut:
        """Return the wire form of an inbox item."""
        return cls(
            run_id=item.run_id,
            lead_id=item.lead_id,
            flow_id=item.flow_id,
            flow_version=item.flow_version,
            location_id=item.location_id,
            failed_step=item.failed_step,
            error_type=item.error_type,
            error_message=item.error_message,
            attempts=item.attempts,
            first_failed_at=item.first_failed_at,
            last_failed_at=item.last_failed_at,
            status=item.status,
            replays=item.replays,
        )


class TimelineOut(Out):
    """One lead in one flow version: the run, the lead as decoded, each step, the inbox item."""

    run: RunOut
    lead: dict[str, Any] | None = Field(
        description="The lead as the receiver decoded it; null once its run's input is pruned."
    )
    steps: list[StepOut]
    inbox: InboxItemOut | None

    @classmethod
    def of(cls, timeline: Timeline, lead: dict[str, Any] | None) -> TimelineOut:
        """Return the wire form of a timeline."""
        return cls(
            run=RunOut.of(timeline.run),
            lead=lead,
            steps=[StepOut.of(s) for s in timeline.steps],
            inbox=None if timeline.inbox is None else InboxItemOut.of(timeline.inbox),
        )


class InboxOut(Out):
    """Inbox items, oldest failure first."""

    items: list[InboxItemOut]


class HealthOut(Out):
    """The process is up and its database answers; runs by status; open inbox items."""

    ok: bool
    runs: dict[str, int]
    inbox_open: int

    @classmethod
    def of(cls, counts: StatusCounts) -> HealthOut:
        """Return the wire form of the counts."""
        return cls(ok=True, runs=counts.runs, inbox_open=counts.inbox_open)


class ItemActionOut(Out):
    """What a replay or dismissal did to one item."""

    run_id: str
    status: InboxStatus
    workflow_id: str | None = None


class BulkReplayIn(BaseModel):
    """Which open items to replay: those of one flow, or (explicitly) all of them."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    flow_id: str | None = Field(default=None, min_length=1, max_length=128)
    all: bool = Field(default=False, description="Replay the open items of every flow.")
    limit: int = Field(default=500, ge=1, le=500, description="At most this many this call.")

    @model_validator(mode="after")
    def _one_scope(self) -> BulkReplayIn:
        if (self.flow_id is None) == (not self.all):
            raise ValueError('give "flow_id", or "all": true (not both)')
        return self


class BulkReplayOut(Out):
    """How many items a bulk replay forked, their new workflows, and how many are still open."""

    replayed: int
    workflow_ids: list[str]
    remaining: int
