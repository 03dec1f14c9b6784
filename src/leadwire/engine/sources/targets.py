"""Flows as every trigger sees them: the latest published version, its CRM location, run ids.

`routing` keeps the live flows Pinterest leads go to; this reads the latest version of flows of
any trigger (CRM events, schedules, a person starting a run) with the same connection rules:
the flow's bound CRM connection, else the only one there is. `TriggeredRun` is a run whose id
is not derived from a lead: `crm:<event id>:<flow id>`, `schedule:<flow id>:<due time>`, or a
re-run's `<run id>:v<version>`.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from leadwire.engine.connections.model import ConnectionKind, ContactsConfig
from leadwire.engine.flows.document import FlowDocument
from leadwire.engine.flows.store import find_flow
from leadwire.engine.runtime import LeadIn
from leadwire.store.models.connections import ConnectionRow
from leadwire.store.models.flows import FlowRow, FlowVersionRow

_VERSION_SUFFIX = re.compile(r":v\d+$")


@dataclass(frozen=True, slots=True)
class FlowTarget:
    """A flow's latest published version and where its runs go (`problem`: why they cannot)."""

    flow_id: str
    name: str
    version: int
    document: FlowDocument
    published_at: datetime
    pinterest_connection_id: str | None
    contacts_connection_id: str | None
    location_id: str | None
    problem: str | None = None

    def check_runnable(self) -> str:
        """Return the CRM location; ValueError saying why the flow cannot run if it has none."""
        if self.problem is not None or self.location_id is None:
            raise ValueError(self.problem or f"flow {self.name!r} has no CRM location")
        return self.location_id

    def payload(self, **fields: object) -> dict[str, object]:
        """Return a run payload of this flow version: `fields` and where the run's calls go."""
        return {
            **fields,
            "flow_id": self.flow_id,
            "flow_version": self.version,
            "location_id": self.location_id,
            "contacts_connection_id": self.contacts_connection_id,
        }


@dataclass(frozen=True, slots=True)
class TriggeredRun(LeadIn):
    """A run whose id is given (`run_key`) rather than derived from a lead id and version.

    `lead_id` is the run's subject as runs are searched by it: `crm:<event id>` or
    `schedule:<due time>`. Intake treats it as any other run: the id taken means a duplicate.
    """

    run_key: str = ""

    @property
    def is_lead(self) -> bool:
        """An event's or a schedule's run: no lead, so no (lead, flow) pair to keep."""
        return False

    @property
    def run_id(self) -> str:
        """The given run id (also the first workflow's id)."""
        return self.run_key


def rerun_key(run_id: str, version: int) -> str:
    """Return the id of a re-run of `run_id` through `version`: `<run id>:v<version>`."""
    return f"{_VERSION_SUFFIX.sub('', run_id)}:v{version}"


def contacts_connection_of(
    flow: FlowRow, connections: dict[str, ConnectionRow]
) -> tuple[str | None, str | None]:
    """Return the CRM connection a flow writes to (bound, or the only one), or why none."""
    if flow.contacts_connection_id is not None:
        if flow.contacts_connection_id in connections:
            return flow.contacts_connection_id, None
        return None, (
            f"flow {flow.name!r} writes to CRM connection {flow.contacts_connection_id!r}, "
            "which does not exist"
        )
    if len(connections) == 1:
        return next(iter(connections)), None
    if not connections:
        return None, f"flow {flow.name!r} has no CRM connection: add one (leadwire connections)"
    return None, (
        f"flow {flow.name!r} names no CRM connection and there are {len(connections)}: "
        f"bind one with `leadwire flows connect {flow.name} --contacts NAME`"
    )


def load_targets(
    session: Session,
    *,
    trigger_types: Collection[str] | None = None,
    flow_ids: Collection[str] | None = None,
) -> list[FlowTarget]:
    """Return the latest published version of each flow (of those triggers, or those flows)."""
    latest = select(FlowVersionRow.flow_id, func.max(FlowVersionRow.version).label("version"))
    if flow_ids is not None:
        latest = latest.where(FlowVersionRow.flow_id.in_(list(flow_ids)))
    newest = latest.group_by(FlowVersionRow.flow_id).subquery()
    rows = session.execute(
        select(FlowRow, FlowVersionRow)
        .join(newest, newest.c.flow_id == FlowRow.id)
        .join(
            FlowVersionRow,
            (FlowVersionRow.flow_id == newest.c.flow_id)
            & (FlowVersionRow.version == newest.c.version),
        )
        .order_by(FlowRow.name)
    ).all()
    connections = {
        row.id: row
        for row in session.scalars(
            select(ConnectionRow).where(ConnectionRow.kind == ConnectionKind.CONTACTS.value)
        )
    }
    targets: list[FlowTarget] = []
    for flow, version in rows:
        document = FlowDocument.model_validate(version.document)
        if trigger_types is not None and document.trigger.type not in trigger_types:
            continue
        connection_id, problem = contacts_connection_of(flow, connections)
        location = None
        if connection_id is not None:
            location = ContactsConfig.model_validate(connections[connection_id].config).location_id
        targets.append(
            FlowTarget(
                flow_id=flow.id,
                name=flow.name,
                version=version.version,
                document=document,
                published_at=version.published_at,
                pinterest_connection_id=flow.pinterest_connection_id,
                contacts_connection_id=connection_id,
                location_id=location,
                problem=problem,
            )
        )
    return targets


def target_of(session: Session, ref: str) -> FlowTarget | None:
    """Return the latest published version of the flow named or identified by `ref`.

    None if it has no published version; `FlowNotFoundError` if there is no such flow.
    """
    flow = find_flow(session, ref)
    found = load_targets(session, flow_ids=[flow.id])
    return found[0] if found else None


def only_pinterest_connection(session: Session) -> str | None:
    """Return the id of the Pinterest connection if there is exactly one."""
    ids = session.scalars(
        select(ConnectionRow.id).where(ConnectionRow.kind == ConnectionKind.PINTEREST.value)
    ).all()
    return ids[0] if len(ids) == 1 else None
