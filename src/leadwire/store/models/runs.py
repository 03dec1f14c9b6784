"""Runs: one row per lead and flow version, its per-step timeline, and the needs-attention inbox.

These tables are a projection of the durable engine's state, written by the engine in as few
transactions as it can: the run row at intake (in the transaction that enqueues its workflow)
and once more whenever a workflow segment ends; the step rows and the inbox row with it.
`lw_lead_flows` is not a projection: it is how intake runs a lead once per flow.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from leadwire.store.models.base import AppBase


class RunStatus(StrEnum):
    """Where a run stands; `needs_attention` runs have an open inbox row."""

    QUEUED = "queued"
    WAITING = "waiting"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    NEEDS_ATTENTION = "needs_attention"
    DISMISSED = "dismissed"


class StepStatus(StrEnum):
    """The outcome of a step's latest attempt."""

    OK = "ok"
    RETRYING = "retrying"
    FAILED = "failed"


class InboxStatus(StrEnum):
    """An inbox item is open until someone replays or dismisses it."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISMISSED = "dismissed"


class RunRow(AppBase):
    """One lead going through one version of one flow."""

    __tablename__ = "lw_runs"
    __table_args__ = (
        Index("ix_lw_runs_flow", "flow_id", "flow_version"),
        Index("ix_lw_runs_status_updated", "status", "updated_at"),
        # The runs list: newest first, keyset-paged on (received_at, run_id).
        Index("ix_lw_runs_received", "received_at", "run_id"),
    )

    run_id: Mapped[str] = mapped_column(String(400), primary_key=True)
    lead_id: Mapped[str] = mapped_column(String(128), index=True)
    # The lead's e-mail as the flow would write it (trimmed, lower-case), for search.
    email: Mapped[str | None] = mapped_column(String(320), index=True)
    flow_id: Mapped[str] = mapped_column(String(128))
    flow_version: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(24))
    # The DBOS workflow that ran (or will run) the run's latest segment.
    workflow_id: Mapped[str] = mapped_column(String(440))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    received_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    next_attempt_at: Mapped[datetime | None]
    error_type: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(Text)
    crm_ids: Mapped[dict[str, Any]]


class RunStepRow(AppBase):
    """A step of a run: its latest attempt's inputs summary, outputs, CRM ids and error."""

    __tablename__ = "lw_run_steps"

    run_id: Mapped[str] = mapped_column(
        ForeignKey("lw_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    outputs: Mapped[dict[str, Any]]
    crm_ids: Mapped[dict[str, Any]]
    error_type: Mapped[str | None] = mapped_column(String(128))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    duration_ms: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime]
    workflow_id: Mapped[str] = mapped_column(String(440))


class InboxRow(AppBase):
    """A run that needs a person: a fatal error, or retries exhausted."""

    __tablename__ = "lw_inbox"
    __table_args__ = (Index("ix_lw_inbox_status_flow", "status", "flow_id", "flow_version"),)

    run_id: Mapped[str] = mapped_column(
        ForeignKey("lw_runs.run_id", ondelete="CASCADE"), primary_key=True
    )
    lead_id: Mapped[str] = mapped_column(String(128), index=True)
    flow_id: Mapped[str] = mapped_column(String(128))
    flow_version: Mapped[int] = mapped_column(Integer)
    location_id: Mapped[str] = mapped_column(String(64))
    failed_step: Mapped[str] = mapped_column(String(128))
    step_position: Mapped[int] = mapped_column(Integer)
    error_type: Mapped[str] = mapped_column(String(128))
    error_message: Mapped[str] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer)
    first_failed_at: Mapped[datetime]
    last_failed_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(16))
    # Where a replay forks from: the failed workflow and the DBOS step id of the failed step.
    workflow_id: Mapped[str] = mapped_column(String(440))
    function_id: Mapped[int] = mapped_column(Integer)
    replays: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class LeadFlowRow(AppBase):
    """A flow that has run a lead, in some version: a delivered lead runs once per flow.

    Written by intake with every run row, in the same transaction, as an insert that does
    nothing if the pair is there; a delivered lead whose pair was already there is a duplicate.
    Kept when the runs are pruned, so a pruned run's lead does not run again.
    """

    __tablename__ = "lw_lead_flows"

    lead_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    flow_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    # When the pair was first recorded: what a pruner with a long horizon would go by.
    claimed_at: Mapped[datetime]
