"""The planner: a flow version and a lead in, the exact plan out, with no I/O.

Dry runs print a plan; the executor runs one. Planning is deterministic — the same flow version,
lead, context, `now` and location give the same plan, ids and idempotency keys — so a run that
re-plans after a crash makes the same calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.expressions import Value
from leadwire.engine.flows.document import FlowVersion
from leadwire.engine.flows.steps import (
    AddNote,
    AddTags,
    AddTask,
    ContactsOperation,
    Delay,
    Enrich,
    FilterStep,
    Route,
    SetStage,
    Step,
    UpsertContact,
    Webhook,
)
from leadwire.engine.flows.timing import duration_s
from leadwire.engine.planning.contact_actions import (
    RunFacts,
    enrich_actions,
    note_actions,
    set_stage_actions,
    tag_actions,
    task_actions,
    upsert_actions,
)
from leadwire.engine.planning.generic_actions import operation_actions, webhook_actions
from leadwire.engine.planning.mapping import Mapper
from leadwire.engine.planning.plan import Action, Outcome, Plan, RouteDecision, Wait
from leadwire.engine.planning.scope import PinterestContext, lead_scope

LOCATION_PLACEHOLDER = "{location_id}"
DEFAULT_FILTER_REASON = "the lead did not meet the filter's condition"


class _Planner:
    def __init__(self, mapper: Mapper, facts: RunFacts) -> None:
        self.mapper = mapper
        self.facts = facts
        self.actions: list[Action] = []
        self.decisions: list[RouteDecision] = []
        self.filtered: str | None = None

    @property
    def is_done(self) -> bool:
        return self.mapper.is_stopped or self.filtered is not None

    def steps(self, steps: Sequence[Step]) -> None:
        for step in steps:
            if self.is_done:
                return
            self.step(step)

    def step(self, step: Step) -> None:
        mapper, facts = self.mapper, self.facts
        if isinstance(step, Route):
            self.route(step)
        elif isinstance(step, FilterStep):
            self.filter(step)
        elif isinstance(step, Delay):
            self.actions.append(
                Wait(id=step.id, step_id=step.id, seconds=duration_s(step.duration))
            )
        elif isinstance(step, UpsertContact):
            self.actions += upsert_actions(mapper, facts, step)
        elif isinstance(step, AddTags):
            self.actions += tag_actions(mapper, facts, step)
        elif isinstance(step, AddTask):
            self.actions += task_actions(mapper, facts, step)
        elif isinstance(step, AddNote):
            self.actions += note_actions(mapper, facts, step)
        elif isinstance(step, Enrich):
            self.actions += enrich_actions(mapper, facts, step)
        elif isinstance(step, SetStage):
            self.actions += set_stage_actions(mapper, facts, step)
        elif isinstance(step, Webhook):
            self.actions += webhook_actions(mapper, facts, step)
        elif isinstance(step, ContactsOperation):
            self.actions += operation_actions(mapper, facts, step)

    def route(self, step: Route) -> None:
        for index, rule in enumerate(step.rules):
            holds = self.mapper.holds(step, f"rules[{index}].when", rule.when)
            if self.mapper.is_stopped:
                return
            if holds:
                self.decisions.append(
                    RouteDecision(step_id=step.id, rule=index, rule_name=rule.name)
                )
                self.steps(rule.steps)
                return
        self.decisions.append(RouteDecision(step_id=step.id, rule=None))
        self.steps(step.default)

    def filter(self, step: FilterStep) -> None:
        holds = self.mapper.holds(step, "continue_if", step.continue_if)
        if holds or self.mapper.is_stopped:
            return
        reason = self.mapper.text(step, "reason", step.reason) or DEFAULT_FILTER_REASON
        if holds is None:  # the condition failed: say so in the reason, never drop silently
            reason = f"{reason} ({self.mapper.problems[-1].message})"
        self.filtered = f"{step.id}: {reason}"


def plan(
    flow: FlowVersion,
    lead: Lead,
    context: PinterestContext | None = None,
    *,
    now: datetime | None = None,
    location_id: str = LOCATION_PLACEHOLDER,
) -> Plan:
    """Return what `flow` does for `lead`: the ordered actions, route decisions and problems.

    A stopped plan holds the actions of the steps before the one that stopped it: the executor
    runs those, then records the run as stopped with `reason`. `now` is when the run started
    (due dates count from it; pass the run's recorded start so a re-plan gives the same plan);
    `location_id` is the CRM location of the flow's connection.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    scope = lead_scope(lead, context or PinterestContext(), moment, flow.document.constants)
    return _planned(flow, lead.lead_id, scope, moment, location_id)


def plan_for(
    flow: FlowVersion,
    subject_id: str,
    names: Mapping[str, Value],
    *,
    now: datetime | None = None,
    location_id: str = LOCATION_PLACEHOLDER,
) -> Plan:
    """Return what `flow` does for a run no lead started (a CRM event, a schedule).

    `subject_id` takes the lead id's place in the plan and its idempotency keys (`crm:<event
    id>`, `schedule:<due time>`); `names` are what templates read besides `const` and `now`
    (see `scope.event_names`, `scope.schedule_names`). A template reading a name that is not
    there (`answers` in an event's run) is a mapping problem of its field, as any other.
    """
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    scope = {**names, "const": dict(flow.document.constants), "now": moment}
    return _planned(flow, subject_id, scope, moment, location_id)


def _planned(
    flow: FlowVersion,
    subject_id: str,
    scope: dict[str, Value],
    moment: datetime,
    location_id: str,
) -> Plan:
    document = flow.document
    mapper = Mapper(scope, document.lookups, document.timezone)
    facts = RunFacts(flow, subject_id, location_id, moment)
    planner = _Planner(mapper, facts)
    planner.steps(document.steps)
    outcome, reason = Outcome.COMPLETE, None
    if mapper.stop_reason is not None:
        outcome, reason = Outcome.STOPPED, mapper.stop_reason
    elif planner.filtered is not None:
        outcome, reason = Outcome.FILTERED, planner.filtered
    return Plan(
        flow_id=flow.flow_id,
        version=flow.version,
        lead_id=subject_id,
        planned_at=moment,
        outcome=outcome,
        reason=reason,
        actions=tuple(planner.actions),
        decisions=tuple(planner.decisions),
        problems=tuple(mapper.problems),
    )
