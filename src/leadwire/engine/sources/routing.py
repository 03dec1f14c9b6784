"""Which flows a lead runs through: the latest published version of every flow it triggers.

A flow's trigger says which leads (ad account, forms, test leads); the flow's bindings say
which Pinterest connection's leads it takes (none: any) and which CRM connection it writes to
(none: the only one there is). The table of live flows is cached for a few seconds: intake reads
it for every lead, and publishing a new version must still take effect promptly.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.leads import Lead, QuestionType
from leadwire.engine.flows.triggers import PinterestLeadTrigger
from leadwire.engine.planning.samples import lead_data
from leadwire.engine.runtime import LeadIn
from leadwire.engine.sources.targets import load_targets

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 2.0


class RoutingError(RuntimeError):
    """A flow the lead triggers cannot run: its CRM connection is missing or ambiguous."""


@dataclass(frozen=True, slots=True)
class LiveFlow:
    """A flow's latest published version, with where its leads go."""

    flow_id: str
    name: str
    version: int
    trigger: PinterestLeadTrigger
    pinterest_connection_id: str | None
    contacts_connection_id: str | None
    location_id: str | None
    problem: str | None = None

    def takes(self, lead: Lead, pinterest_connection_id: str | None) -> bool:
        """Return whether this flow runs for `lead` arriving through that connection."""
        if self.pinterest_connection_id is not None and (
            pinterest_connection_id is not None
            and self.pinterest_connection_id != pinterest_connection_id
        ):
            return False
        return self.trigger.matches(lead)


def email_of(lead: Lead) -> str | None:
    """Return the lead's e-mail as runs are searched by it (trimmed, lower-case), if any."""
    answer = lead.answer(QuestionType.EMAIL)
    email = answer.value.strip().lower() if answer is not None else ""
    return email[:320] or None


def run_payload(
    lead: Lead, flow: LiveFlow, pinterest_connection_id: str | None = None
) -> dict[str, Any]:
    """Return what a run of `flow` for `lead` carries: the lead and where it goes.

    The Pinterest connection (to look up the ad's names with) is the flow's, else the one the
    lead came through.
    """
    return {
        "lead": lead_data(lead),
        "flow_id": flow.flow_id,
        "flow_version": flow.version,
        "location_id": flow.location_id,
        "contacts_connection_id": flow.contacts_connection_id,
        "pinterest_connection_id": flow.pinterest_connection_id or pinterest_connection_id,
    }


def load_live_flows(session: Session) -> list[LiveFlow]:
    """Return every flow whose latest published version starts on new Pinterest leads."""
    live: list[LiveFlow] = []
    for target in load_targets(session, trigger_types={"pinterest_lead"}):
        trigger = target.document.trigger
        assert isinstance(trigger, PinterestLeadTrigger)
        live.append(
            LiveFlow(
                flow_id=target.flow_id,
                name=target.name,
                version=target.version,
                trigger=trigger,
                pinterest_connection_id=target.pinterest_connection_id,
                contacts_connection_id=target.contacts_connection_id,
                location_id=target.location_id,
                problem=target.problem,
            )
        )
    return live


class FlowRoutes:
    """The live flows, re-read at most every `ttl_s`; thread-safe."""

    def __init__(
        self,
        session_factory: Callable[[], Session],
        *,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = session_factory
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._flows: list[LiveFlow] = []
        self._read_at: float | None = None

    def live(self) -> list[LiveFlow]:
        """Return the live flows, reading them again if the cached table is too old."""
        with self._lock:
            now = self._clock()
            if self._read_at is None or now - self._read_at >= self._ttl_s:
                with self._sessions() as session:
                    self._flows = load_live_flows(session)
                self._read_at = now
            return self._flows

    def cached(self) -> list[LiveFlow] | None:
        """Return the live flows if the cached table is fresh, else None (never reads)."""
        with self._lock:
            if self._read_at is None or self._clock() - self._read_at >= self._ttl_s:
                return None
            return self._flows

    def forget(self) -> None:
        """Drop the cached table (after publishing, binding or connecting)."""
        with self._lock:
            self._read_at = None

    def runs_for(
        self,
        lead: Lead,
        pinterest_connection_id: str | None = None,
        *,
        flows: Sequence[LiveFlow] | None = None,
    ) -> list[LeadIn]:
        """Return a run per live flow `lead` triggers; `RoutingError` if one of them cannot run.

        Raising (rather than skipping that flow) keeps the lead unacknowledged, so Pinterest
        delivers it again once the flow is fixed; the flows that could run are not lost either,
        since a second delivery of a lead starts nothing twice. The runs are `once_per_flow`:
        intake drops those whose flow already ran the lead in any version, in the transaction
        that records the rest. `flows`: the live flows to use (from `cached`), not `live()`.
        """
        runs: list[LeadIn] = []
        for flow in self.live() if flows is None else flows:
            if not flow.takes(lead, pinterest_connection_id):
                continue
            if flow.problem is not None or flow.location_id is None:
                raise RoutingError(flow.problem or f"flow {flow.name!r} has no CRM location")
            runs.append(
                LeadIn(
                    lead_id=lead.lead_id,
                    flow_id=flow.flow_id,
                    flow_version=flow.version,
                    location_id=flow.location_id,
                    payload=run_payload(lead, flow, pinterest_connection_id),
                    email=email_of(lead),
                    once_per_flow=True,
                )
            )
        return runs
