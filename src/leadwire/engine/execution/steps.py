"""A plan as the runtime sees it: an ordered list of steps, each with a stable id.

Besides the plan's actions there are three bookkeeping steps, so a run's timeline says what
planning decided: `plan` first (routes taken, values left out and why), then `filtered` or
`stopped` last when the flow ended early. They make no outside call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from leadwire.engine.execution.crm import ENSURED
from leadwire.engine.planning import Action, CrmCall, Outcome, Plan, WebhookCall


@dataclass(frozen=True, slots=True)
class PlanNote:
    """The first step of every run: what the plan holds and what it could not map."""

    step_id: str
    summary: str

    def describe(self) -> str:
        """Return the plan's summary."""
        return self.summary

    @property
    def requests(self) -> int:
        """Bookkeeping: no request."""
        return 0


@dataclass(frozen=True, slots=True)
class EndEarly:
    """The last step of a run its flow filtered out (ok) or stopped (to the inbox)."""

    step_id: str
    reason: str
    stopped: bool

    def describe(self) -> str:
        """Return why the run ends here."""
        return f"{'stopped' if self.stopped else 'filtered'}: {self.reason}"

    @property
    def requests(self) -> int:
        """Bookkeeping: no request."""
        return 0


@dataclass(frozen=True, slots=True)
class RunTarget:
    """Where a run's calls go: its CRM connection, and its flow version (webhook signing).

    `lead_created_at` decides whether the upsert's contact is new *for this lead*: several
    flows upsert the same lead's contact concurrently and only the first sees `"new": true`,
    yet each flow's "only if new" steps (the initial lifecycle stage) must run once the lead
    created the contact, whichever flow got there first.
    """

    contacts_connection_id: str
    flow_id: str
    flow_version: int
    lead_created_at: datetime | None = None
    # The connection's CRM honours no idempotency keys: a task or note is a look-up, then a
    # create (two requests, so two rate-budget slots).
    looks_up_before_create: bool = False


@dataclass(frozen=True, slots=True)
class ActionStep:
    """One action of the plan: a CRM call, a signed webhook call, or a wait."""

    step_id: str
    action: Action
    target: RunTarget

    def describe(self) -> str:
        """Return the call in one line, without personal data (no bodies, no query values)."""
        action = self.action
        if isinstance(action, CrmCall):
            return f"{action.operation_id} {action.method} {action.path}"
        if isinstance(action, WebhookCall):
            return f"webhook {action.method}"
        return f"wait {action.seconds} s"

    @property
    def requests(self) -> int:
        """CRM calls only (a webhook goes elsewhere, a wait nowhere): one request, or two for
        a task or note looked up before it is created."""
        action = self.action
        if not isinstance(action, CrmCall):
            return 0
        return 2 if self.target.looks_up_before_create and action.operation_id in ENSURED else 1


RunStep = PlanNote | EndEarly | ActionStep


def _summary(result: Plan) -> str:
    parts = [f"{len(result.actions)} action(s) planned"]
    parts += [f"route {d.step_id} took {d.branch}" for d in result.decisions]
    parts += [
        f"left out {p.step_id}.{p.field}: {p.message}" for p in result.problems if not p.stopped
    ]
    return "; ".join(parts)


def steps_of(result: Plan, target: RunTarget) -> list[RunStep]:
    """Return the steps a run makes for `result`, in order."""
    steps: list[RunStep] = [PlanNote("plan", _summary(result))]
    steps += [ActionStep(action.id, action, target) for action in result.actions]
    if result.outcome is Outcome.FILTERED:
        steps.append(EndEarly("filtered", result.reason or "", stopped=False))
    elif result.outcome is Outcome.STOPPED:
        steps.append(EndEarly("stopped", result.reason or "", stopped=True))
    return steps
