"""Intake: leads in, workflows enqueued — many per durable transaction, each lead once.

`accept_leads` enqueues one workflow per (lead, flow version) whose id is derived from the
Pinterest lead id, and writes each run's row, in ONE transaction committed at the durable
level; it returns only after the commit, so a receiver that answers 2xx after it never loses
an acknowledged lead. A lead whose run id is already taken (a second delivery) enqueues
nothing and comes back as a duplicate. It needs only the database, not a launched DBOS: the
receiver can run in a process that runs no workflows.

A lead runs once per flow, not once per version (`LeadIn.once_per_flow`, set for delivered
and polled leads): the transaction first records every run's (lead, flow) pair in
`lw_lead_flows` with an insert that skips pairs already there and returns the new ones, and a
once-per-flow run whose pair was not new is a duplicate. Deciding inside the commit costs one
statement per batch (not a read per delivery), and two deliveries of one lead racing on two
connections cannot both win: the second insert waits for the first's commit, then skips.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dbos import DBOSClient, EnqueueOptions
from dbos import error as dbos_errors
from sqlalchemy import Connection, Engine, Table

from leadwire.engine.runtime.jobs import LeadJob, Progress, run_id_for
from leadwire.engine.runtime.journal import at_ms, insert_queued_runs
from leadwire.engine.runtime.options import APP_NAME, RuntimeOptions
from leadwire.engine.runtime.replay import Inbox
from leadwire.engine.runtime.system_db import migrate_system_tables, open_engine
from leadwire.engine.runtime.workflow import WORKFLOW_NAME
from leadwire.store.models.runs import LeadFlowRow
from leadwire.store.upserts import insert_new

log = logging.getLogger(__name__)

LEAD_FLOWS: Table = LeadFlowRow.__table__  # type: ignore[assignment]


@dataclass(frozen=True, slots=True)
class LeadIn:
    """A lead to run through one version of one flow, with the payload its plan needs."""

    lead_id: str
    flow_id: str
    flow_version: int
    location_id: str
    payload: Mapping[str, Any] = field(default_factory=dict)
    # Kept on the run's row (not in the workflow) so runs can be found by it.
    email: str | None = None
    # A duplicate if any version of the flow has run the lead (a delivered lead); else only
    # if this very run exists (a deliberate run: manual, re-run, an event, a schedule).
    once_per_flow: bool = False

    @property
    def is_lead(self) -> bool:
        """Whether `lead_id` is a Pinterest lead's (its (lead, flow) pair is recorded)."""
        return True

    @property
    def run_id(self) -> str:
        """The run id (and first workflow id) this lead gets in this flow version."""
        return run_id_for(self.lead_id, self.flow_id, self.flow_version)


@dataclass(frozen=True, slots=True)
class IntakeReport:
    """Which runs a batch started, and which were already there."""

    accepted: tuple[str, ...]
    duplicates: tuple[str, ...]


class LeadIntake:
    """Accepts leads into the durable engine; one per process, shared by its threads."""

    def __init__(self, engine: Engine, client: DBOSClient, queue_name: str) -> None:
        self._engine = engine
        self._client = client
        self._queue_name = queue_name

    @classmethod
    def open(cls, options: RuntimeOptions, *, migrate: bool = True) -> LeadIntake:
        """Open intake on the engine's database (creating DBOS's tables if `migrate`)."""
        if migrate:
            migrate_system_tables(options.database_url)
        engine = open_engine(
            options.database_url,
            synchronous=options.intake_synchronous,
            pool_size=options.pool_size,
        )
        client = DBOSClient(
            system_database_engine=engine,
            application_name=APP_NAME,
        )
        return cls(engine, client, options.queue_name)

    def close(self) -> None:
        """Release the intake's connections."""
        self._client.destroy()
        self._engine.dispose()

    @property
    def engine(self) -> Engine:
        """The durable engine intake commits with (also used by replays)."""
        return self._engine

    @property
    def client(self) -> DBOSClient:
        """The DBOS client intake enqueues with."""
        return self._client

    def inbox(self) -> Inbox:
        """Return the needs-attention inbox, acting with intake's durable engine and client."""
        return Inbox(self._engine, self._client, self._queue_name)

    def accept_leads(self, batch: Sequence[LeadIn]) -> IntakeReport:
        """Durably enqueue a run per lead of `batch` in one transaction; report duplicates."""
        received_ms = int(time.time() * 1000)
        seen: set[str] = set()
        fresh: list[LeadJob] = []
        duplicates: list[str] = []
        emails: dict[str, str | None] = {}
        with self._engine.begin() as conn:
            new_pairs = claim_lead_flows(conn, batch, received_ms)
            for lead in batch:
                run_id = lead.run_id
                pair = (lead.lead_id, lead.flow_id)
                if run_id in seen or (lead.once_per_flow and pair not in new_pairs):
                    duplicates.append(run_id)
                    continue
                seen.add(run_id)
                # A pair is new for its first run in the batch only.
                new_pairs.discard(pair)
                job = _job(lead, received_ms)
                try:
                    self._client.enqueue_in_transaction(
                        conn, self._options(job), job.to_wire(), Progress(chain=run_id).to_wire()
                    )
                except dbos_errors.DBOSWorkflowIDInUseError:
                    duplicates.append(run_id)
                    continue
                fresh.append(job)
                emails[run_id] = lead.email
            insert_queued_runs(conn, fresh, emails)
        accepted = tuple(job.run_id for job in fresh)
        log.debug("intake.accepted count=%d duplicates=%d", len(accepted), len(duplicates))
        return IntakeReport(accepted, tuple(duplicates))

    def _options(self, job: LeadJob) -> EnqueueOptions:
        return {
            "workflow_name": WORKFLOW_NAME,
            "queue_name": self._queue_name,
            "workflow_id": job.run_id,
            # A taken id raises instead of attaching: that is how a duplicate shows.
            "workflow_id_reuse_policy": "reject",
            "queue_partition_key": job.location_id,
        }


def claim_lead_flows(
    conn: Connection, batch: Sequence[LeadIn], received_ms: int
) -> set[tuple[str, str]]:
    """Record the (lead, flow) pairs of `batch` in the caller's transaction; return the new ones."""
    # Sorted: two transactions inserting overlapping pairs take their keys in the same order
    # (PostgreSQL would otherwise be free to deadlock them).
    pairs = sorted({(lead.lead_id, lead.flow_id) for lead in batch if lead.is_lead})
    if not pairs:
        return set()
    claimed_at = at_ms(received_ms)
    rows = [{"lead_id": lead, "flow_id": flow, "claimed_at": claimed_at} for lead, flow in pairs]
    keys = ["lead_id", "flow_id"]
    statement = insert_new(conn, LEAD_FLOWS, keys, returning=keys)
    return {(lead_id, flow_id) for lead_id, flow_id in conn.execute(statement, rows)}


def _job(lead: LeadIn, received_ms: int) -> LeadJob:
    return LeadJob(
        run_id=lead.run_id,
        lead_id=lead.lead_id,
        flow_id=lead.flow_id,
        flow_version=lead.flow_version,
        location_id=lead.location_id,
        payload=dict(lead.payload),
        received_ms=received_ms,
    )
