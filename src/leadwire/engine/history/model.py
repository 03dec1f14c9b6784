"""What run history answers with: runs as listed, a page of them, and a run's timeline.

These are also the JSON API's response bodies (pydantic serialises the dataclasses as they
are), so each shape is written once; a derived value the API shows is a `computed_field`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import computed_field

from leadwire.engine.runtime.replay import InboxItem
from leadwire.store.models.runs import RunStatus, StepStatus

DEFAULT_LIMIT = 50
MAX_LIMIT = 500


@dataclass(frozen=True, slots=True)
class RunFilter:
    """Which runs to list; every criterion given must hold. `cursor` continues a listing."""

    lead_id: str | None = None
    email: str | None = None
    status: RunStatus | None = None
    flow_id: str | None = None
    limit: int = DEFAULT_LIMIT
    cursor: str | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_LIMIT:
            raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")


@dataclass(frozen=True, slots=True)
class RunSummary:
    """A run as listed: where it stands, and its last error if it has one."""

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
    error_type: str | None
    error_message: str | None
    crm_ids: dict[str, str]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def latency_ms(self) -> int | None:
        """Milliseconds from receiving the lead to the run's end, once it has ended."""
        if self.finished_at is None:
            return None
        return int((self.finished_at - self.received_at).total_seconds() * 1000)


@dataclass(frozen=True, slots=True)
class RunPage:
    """Runs, newest first, and the cursor of the next page (None on the last page)."""

    runs: tuple[RunSummary, ...]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class StepView:
    """A step of a run: its latest attempt's summary, outputs, CRM ids and error."""

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


@dataclass(frozen=True, slots=True)
class Timeline:
    """One lead in one flow version: the run, each step, its inbox item, and the lead.

    `lead` is the lead as the receiver decoded it: `load_timeline` leaves it None, a caller that
    shows it adds `read_run_lead`'s answer (also None once the run's input is pruned).
    """

    run: RunSummary
    steps: tuple[StepView, ...]
    inbox: InboxItem | None
    lead: dict[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StatusCounts:
    """How many runs stand where, and how many inbox items are open."""

    runs: dict[str, int]
    inbox_open: int

    @property
    def total(self) -> int:
        """Every run counted."""
        return sum(self.runs.values())
