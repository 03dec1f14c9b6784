"""Runs a person starts: a flow on a lead they choose, and a run again through a newer version.

- **Manual run**: the flow's latest published version on a lead (lead-file format), whatever
  the flow's trigger — a `manual` flow, or a Pinterest flow tried on a chosen lead. Its run id
  is the lead's as if Pinterest had delivered it, `lead:<lead id>:<flow id>:v<version>`, so a
  lead runs once per flow version however it arrives.
- **Re-run**: the input of an existing run (its lead, event or due time, read back from its
  first workflow's durable input) through another published version, by default the latest.
  Its id is `<run id>:v<version>` (for a lead run that is the lead's run id in that version).
  The same version is refused: that would be the same run — a failed one is replayed from the
  failed step with `leadwire inbox replay` instead.

Both record the run through intake like any other, and a worker runs it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

from dbos import DBOSClient

from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.flows.errors import FlowNotFoundError
from leadwire.engine.flows.store import get_version
from leadwire.engine.planning.samples import lead_data
from leadwire.engine.runtime import LeadIn, LeadIntake
from leadwire.engine.sources.routing import email_of
from leadwire.engine.sources.targets import (
    FlowTarget,
    TriggeredRun,
    only_pinterest_connection,
    rerun_key,
    target_of,
)
from leadwire.store.app import AppStore
from leadwire.store.models.runs import RunRow

log = logging.getLogger(__name__)


class RunRequestError(ValueError):
    """A run that cannot be started; the message says why and what to do."""


@dataclass(frozen=True, slots=True)
class Started:
    """The run a request recorded, or found already recorded (`is_new` false)."""

    run_id: str
    flow_id: str
    flow_name: str
    version: int
    is_new: bool


def read_run_payload(client: DBOSClient, run_id: str) -> dict[str, Any] | None:
    """Return the payload run `run_id` started with (its first workflow's input), or None."""
    statuses = client.list_workflows(workflow_ids=[run_id], load_output=False)
    if not statuses or statuses[0].input is None:
        return None
    try:
        payload = statuses[0].input["args"][0]["payload"]
    except (KeyError, IndexError, TypeError):
        return None
    return dict(payload) if isinstance(payload, dict) else None


def _target(store: AppStore, ref: str) -> FlowTarget:
    with store.read_sessions() as session:
        try:
            target = target_of(session, ref)
        except FlowNotFoundError as exc:
            raise RunRequestError(str(exc)) from None
    if target is None:
        raise RunRequestError(
            f"flow {ref!r} has no published version: publish it (`leadwire flows publish`)"
        )
    try:
        target.check_runnable()
    except ValueError as exc:
        raise RunRequestError(str(exc)) from None
    return target


def _record(intake: LeadIntake, run: LeadIn, target: FlowTarget) -> Started:
    report = intake.accept_leads([run])
    is_new = bool(report.accepted)
    log.info("manual.%s run=%s", "started" if is_new else "exists", run.run_id)
    return Started(run.run_id, target.flow_id, target.name, target.version, is_new)


def start_manual_run(store: AppStore, intake: LeadIntake, flow: str, lead: Lead) -> Started:
    """Record a run of `flow`'s latest published version on `lead`."""
    target = _target(store, flow)
    pinterest = target.pinterest_connection_id
    if pinterest is None:
        with store.read_sessions() as session:
            pinterest = only_pinterest_connection(session)
    payload = target.payload(lead=lead_data(lead), pinterest_connection_id=pinterest)
    run = LeadIn(
        lead_id=lead.lead_id,
        flow_id=target.flow_id,
        flow_version=target.version,
        location_id=target.check_runnable(),
        payload=payload,
        email=email_of(lead),
    )
    return _record(intake, run, target)


def start_rerun(
    store: AppStore, intake: LeadIntake, run_id: str, *, version: int | None = None
) -> Started:
    """Record a re-run of `run_id`'s input through `version` (default: the latest)."""
    with store.read_sessions() as session:
        row = session.get(RunRow, run_id)
        if row is None:
            raise RunRequestError(f"no run {run_id!r} (see `leadwire runs list`)")
        subject, flow_id, ran, email = row.lead_id, row.flow_id, row.flow_version, row.email
    target = _target(store, flow_id)
    if version is not None and version != target.version:
        with store.read_sessions() as session:
            try:
                chosen = get_version(session, flow_id, version)
            except FlowNotFoundError as exc:
                raise RunRequestError(str(exc)) from None
        target = dataclasses.replace(target, version=version, document=chosen.document)
    if target.version == ran:
        raise RunRequestError(
            f"run {run_id} already ran version {ran} of flow {target.name!r}: a re-run needs "
            "another version (publish one with `leadwire flows publish`); to retry a failed "
            f"run on its own version, replay it: `leadwire inbox replay {run_id}`"
        )
    payload = read_run_payload(intake.client, run_id)
    if payload is None:
        raise RunRequestError(
            f"the input of run {run_id} is gone (pruned with its run's history): nothing to re-run"
        )
    fresh = {**payload, **target.payload()}
    if "lead" in payload and target.pinterest_connection_id is not None:
        fresh["pinterest_connection_id"] = target.pinterest_connection_id
    run = TriggeredRun(
        lead_id=subject,
        flow_id=target.flow_id,
        flow_version=target.version,
        location_id=target.check_runnable(),
        payload=fresh,
        email=email,
        run_key=rerun_key(run_id, target.version),
    )
    return _record(intake, run, target)
