"""Runs no lead started, as the executor plans them: a CRM event's and a schedule's.

Their payload says which (`trigger`), names the run's subject (`crm:<event id>`,
`schedule:<due time>`: it keys the idempotency keys as a lead id does) and carries the event or
the due time. A CRM event's run knows its contact before any step: a `BindContact` step, right
after the plan's note, binds `contact_id` from the event, so the flow's steps act on that
contact as they would on an upserted one (an `upsert_contact` step later binds its own).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadwire.engine.execution.crm import CONTACT_ID, CONTACT_NEW
from leadwire.engine.execution.steps import RunStep, RunTarget, steps_of
from leadwire.engine.flows.document import FlowVersion
from leadwire.engine.planning import event_names, plan_for, schedule_names
from leadwire.engine.runtime import StepResult

CRM_EVENT = "crm_event"
SCHEDULE = "schedule"
TRIGGERS = frozenset({CRM_EVENT, SCHEDULE})
BIND_STEP_ID = "event-contact"


@dataclass(frozen=True, slots=True)
class BindContact:
    """The step that makes the event's contact the run's contact; it calls nothing."""

    step_id: str
    contact_id: str

    def describe(self) -> str:
        """Say what the step does."""
        return "the event's contact"

    @property
    def requests(self) -> int:
        """The contact comes with the event: no request."""
        return 0

    def result(self) -> StepResult:
        """Return the bindings later steps resolve `{contact_id}` from."""
        return StepResult(
            outputs={CONTACT_ID: self.contact_id, CONTACT_NEW: "false"},
            crm_ids={"contact": self.contact_id},
            summary="contact from the event",
        )


def is_triggered(payload: Mapping[str, Any]) -> bool:
    """Return whether a payload is of a run no lead started."""
    return payload.get("trigger") in TRIGGERS


def plan_triggered(
    version: FlowVersion,
    payload: Mapping[str, Any],
    *,
    started: datetime,
    location_id: str,
    target: RunTarget,
) -> list[RunStep | BindContact]:
    """Return the steps of an event's or a schedule's run (KeyError, ValueError if malformed)."""
    contact_id: str | None = None
    if payload["trigger"] == CRM_EVENT:
        names = event_names(dict(payload["event"]))
        contact_id = payload.get("contact_id") or None
    else:
        due = datetime.fromisoformat(str(payload["schedule"]["due_at"]))
        names = schedule_names(due)
    result = plan_for(version, str(payload["subject"]), names, now=started, location_id=location_id)
    steps: list[RunStep | BindContact] = list(steps_of(result, target))
    if contact_id is not None:
        steps.insert(1, BindContact(BIND_STEP_ID, str(contact_id)))
    return steps
