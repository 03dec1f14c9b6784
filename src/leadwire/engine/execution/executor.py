"""The flow executor: the runtime's `StepExecutor` for leadwire flows.

`prepare` looks up the lead's Pinterest context, when its hook has a Pinterest connection to
look names up with (the runtime checkpoints that answer, so every re-plan of the run sees the
same), and stamps the time the lead was received; `plan` runs the pure planner on the lead, its
flow version and that context; `execute` makes one step's call. Runs no lead started (a CRM
event's, a schedule's: `triggered.py`) skip the look-up and plan from their payload.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from datetime import UTC, datetime

import httpx

from leadwire.engine.execution.context import ContextLookup
from leadwire.engine.execution.crm import CrmClients
from leadwire.engine.execution.steps import ActionStep, EndEarly, PlanNote, RunTarget, steps_of
from leadwire.engine.execution.triggered import BindContact, is_triggered, plan_triggered
from leadwire.engine.execution.webhooks import WebhookSender
from leadwire.engine.flows.document import FlowVersion
from leadwire.engine.flows.store import get_version
from leadwire.engine.planning import CrmCall, PinterestContext, Wait, WebhookCall, plan, read_lead
from leadwire.engine.runtime import JsonObject, StepCall, StepResult
from leadwire.engine.secrets import KeyRing
from leadwire.errors import FatalError
from leadwire.settings import Settings
from leadwire.store.app import AppStore

MAX_CACHED_VERSIONS = 256


class FlowExecutor:
    """Plans and runs leads through published flow versions; one per worker process."""

    def __init__(
        self,
        store: AppStore,
        ring: KeyRing,
        *,
        contexts: ContextLookup | None = None,
        crm: CrmClients | None = None,
        webhooks: WebhookSender | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._store = store
        self.contexts = contexts or ContextLookup(store, ring)
        self.crm = crm or CrmClients(store, ring, transport=transport)
        self.webhooks = webhooks or WebhookSender(store, ring, transport=transport)
        # Published versions never change, so they are cached without expiry (bounded).
        self._versions: dict[tuple[str, int], FlowVersion] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, store: AppStore, ring: KeyRing) -> FlowExecutor:
        """Return the executor a worker runs with `settings`."""
        return cls(
            store, ring, crm=CrmClients(store, ring, timeout_s=settings.engine_crm_timeout_s)
        )

    def close(self) -> None:
        """Close every outside client."""
        self.contexts.close()
        self.crm.close()
        self.webhooks.close()

    def _version(self, flow_id: str, version: int) -> FlowVersion:
        key = (flow_id, version)
        with self._lock:
            found = self._versions.get(key)
        if found is None:
            with self._store.read_sessions() as session:
                found = get_version(session, flow_id, version)
            with self._lock:
                if len(self._versions) >= MAX_CACHED_VERSIONS:
                    self._versions.pop(next(iter(self._versions)))
                self._versions[key] = found
        return found

    def looks_up(self, payload: JsonObject) -> bool:
        """A lead's names are looked up only through a Pinterest connection."""
        return not is_triggered(payload) and payload.get("pinterest_connection_id") is not None

    def prepare(self, payload: JsonObject, received_ms: int) -> JsonObject:
        """Look up the lead's context (degrading to unknown names); stamp when it was received.

        Due dates count from the lead's reception, not from when a worker got to it: a lead
        that waited out an outage keeps its follow-up times, and every plan of a run, replays
        included, gives the same bodies for the same idempotency keys.
        """
        planned_at = datetime.fromtimestamp(received_ms / 1000, UTC).isoformat()
        if is_triggered(payload):  # no lead, so no Pinterest names to look up
            return {"planned_at": planned_at}
        lead, _ = read_lead(payload["lead"])
        looked = self.contexts.lookup(payload.get("pinterest_connection_id"), lead)
        return {
            "context": asdict(looked.context),
            "context_problem": looked.problem,
            "planned_at": planned_at,
        }

    def plan(self, payload: JsonObject, prepared: JsonObject) -> Sequence[StepCall]:
        """Return the run's steps: the flow version's plan for the lead (or event, or due time)."""
        if is_triggered(payload):
            return self._plan_triggered(payload, prepared)
        try:
            lead, _ = read_lead(payload["lead"])
            version = self._version(str(payload["flow_id"]), int(payload["flow_version"]))
            location = str(payload["location_id"])
            connection_id = str(payload["contacts_connection_id"])
        except (KeyError, TypeError, ValueError) as exc:
            raise FatalError(f"the run's payload is not usable: {exc}") from None
        target = RunTarget(
            contacts_connection_id=connection_id,
            flow_id=version.flow_id,
            flow_version=version.version,
            lead_created_at=lead.created_time,
            looks_up_before_create=self.crm.looks_up_before_create(connection_id),
        )
        context = PinterestContext(**dict(prepared.get("context") or {}))
        started = datetime.fromisoformat(str(prepared["planned_at"]))
        result = plan(version, lead, context, now=started, location_id=location)
        return steps_of(result, target)

    def _plan_triggered(self, payload: JsonObject, prepared: JsonObject) -> Sequence[StepCall]:
        try:
            version = self._version(str(payload["flow_id"]), int(payload["flow_version"]))
            connection_id = str(payload["contacts_connection_id"])
            target = RunTarget(
                contacts_connection_id=connection_id,
                flow_id=version.flow_id,
                flow_version=version.version,
                looks_up_before_create=self.crm.looks_up_before_create(connection_id),
            )
            started = datetime.fromisoformat(str(prepared["planned_at"]))
            return plan_triggered(
                version,
                payload,
                started=started,
                location_id=str(payload["location_id"]),
                target=target,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise FatalError(f"the run's payload is not usable: {exc}") from None

    def execute(self, call: StepCall, bindings: Mapping[str, str]) -> StepResult:
        """Make one step's call (idempotent: a step cut short by a crash is made again)."""
        if isinstance(call, PlanNote):
            return StepResult(summary=call.summary)
        if isinstance(call, BindContact):
            return call.result()
        if isinstance(call, EndEarly):
            if call.stopped:
                raise FatalError(call.reason)
            return StepResult(summary=call.describe())
        if not isinstance(call, ActionStep):
            raise TypeError(f"not a step of a leadwire plan: {call!r}")
        action = call.action
        if isinstance(action, Wait):
            return StepResult(summary=f"wait {action.seconds} s", resume_after_s=action.seconds)
        target = call.target
        if isinstance(action, CrmCall):
            return self.crm.send(
                target.contacts_connection_id,
                action,
                bindings,
                lead_created_at=target.lead_created_at,
            )
        if isinstance(action, WebhookCall):
            if action.contact_id_at:
                contact_id = bindings.get("contact_id")
                if not contact_id:
                    raise FatalError(f"{action.id}: no contact id to send")
                action = action.resolved(contact_id)
            return self.webhooks.send(target.flow_id, target.flow_version, action)
        raise TypeError(f"unknown action {action!r}")
