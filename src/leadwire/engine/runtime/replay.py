"""The needs-attention inbox: list it, replay a run from its failed step, or dismiss it.

A replay is a DBOS fork of the workflow segment that failed, from the DBOS step that made the
failed call: the calls before it are not made again (their checkpoints are copied), the failed
one is. The fork's id is derived from the run and the replay count, so asking twice for the
same replay (a double click, a retry after a crash) forks once. The fork goes through the
same partitioned queue as new leads, so replays spend the location's rate budget like them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from dbos import DBOSClient, SetWorkflowID
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from leadwire.engine.runtime.jobs import replay_id_for
from leadwire.engine.runtime.journal import INBOX, RUNS
from leadwire.store.models.runs import InboxStatus, RunStatus
from leadwire.store.types import utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class InboxItem:
    """A run that needs a person, and why."""

    run_id: str
    lead_id: str
    flow_id: str
    flow_version: int
    location_id: str
    failed_step: str
    error_type: str
    error_message: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    status: InboxStatus
    replays: int

    @classmethod
    def of(cls, row: Any) -> InboxItem:
        """Return the item an inbox row holds (an ORM row or a Core row: read by attribute)."""
        return cls(
            run_id=row.run_id,
            lead_id=row.lead_id,
            flow_id=row.flow_id,
            flow_version=row.flow_version,
            location_id=row.location_id,
            failed_step=row.failed_step,
            error_type=row.error_type,
            error_message=row.error_message,
            attempts=row.attempts,
            first_failed_at=row.first_failed_at,
            last_failed_at=row.last_failed_at,
            status=InboxStatus(row.status),
            replays=row.replays,
        )


class Inbox:
    """Reads and acts on the inbox, with the durable intake engine."""

    def __init__(self, engine: Engine, client: DBOSClient, queue_name: str) -> None:
        self._engine = engine
        self._client = client
        self._queue_name = queue_name

    def items(
        self,
        *,
        status: InboxStatus | None = InboxStatus.OPEN,
        flow_id: str | None = None,
        flow_version: int | None = None,
        limit: int = 500,
    ) -> list[InboxItem]:
        """Return inbox items, oldest failure first."""
        query = select(INBOX).order_by(INBOX.c.last_failed_at).limit(limit)
        if status is not None:
            query = query.where(INBOX.c.status == status.value)
        if flow_id is not None:
            query = query.where(INBOX.c.flow_id == flow_id)
        if flow_version is not None:
            query = query.where(INBOX.c.flow_version == flow_version)
        with self._engine.connect() as conn:
            rows = conn.execute(query).all()
        return [InboxItem.of(row) for row in rows]

    def replay(self, run_id: str) -> str | None:
        """Replay an open item from its failed step; return the new workflow id, or None."""
        with self._engine.begin() as conn:
            row = (
                conn.execute(
                    select(INBOX)
                    .where(INBOX.c.run_id == run_id, INBOX.c.status == InboxStatus.OPEN.value)
                    .with_for_update()
                )
                .mappings()
                .first()
            )
            if row is None:
                return None
            replay = int(row["replays"]) + 1
            fork_id = replay_id_for(run_id, replay)
            self._fork(fork_id, row["workflow_id"], int(row["function_id"]), row["location_id"])
            now = utcnow()
            conn.execute(
                update(INBOX)
                .where(INBOX.c.run_id == run_id)
                .values(status=InboxStatus.REPLAYED.value, replays=replay, updated_at=now)
            )
            conn.execute(
                update(RUNS)
                .where(RUNS.c.run_id == run_id)
                .values(
                    status=RunStatus.QUEUED.value,
                    workflow_id=fork_id,
                    finished_at=None,
                    next_attempt_at=None,
                    updated_at=now,
                )
            )
        log.info("inbox.replayed run=%s workflow=%s", run_id, fork_id)
        return fork_id

    def replay_all(
        self, *, flow_id: str | None = None, flow_version: int | None = None, limit: int = 500
    ) -> list[str]:
        """Replay every open item (of a flow, or a flow version); return the new workflow ids."""
        forked = []
        for item in self.items(flow_id=flow_id, flow_version=flow_version, limit=limit):
            fork_id = self.replay(item.run_id)
            if fork_id is not None:
                forked.append(fork_id)
        return forked

    def dismiss(self, run_id: str) -> bool:
        """Close an open item without replaying it; say whether there was one."""
        now = utcnow()
        with self._engine.begin() as conn:
            closed = conn.execute(
                update(INBOX)
                .where(INBOX.c.run_id == run_id, INBOX.c.status == InboxStatus.OPEN.value)
                .values(status=InboxStatus.DISMISSED.value, updated_at=now)
            ).rowcount
            if closed:
                conn.execute(
                    update(RUNS)
                    .where(RUNS.c.run_id == run_id)
                    .values(status=RunStatus.DISMISSED.value, updated_at=now)
                )
        return bool(closed)

    def _fork(self, fork_id: str, workflow_id: str, function_id: int, location_id: str) -> None:
        try:
            with SetWorkflowID(fork_id):
                self._client.fork_workflow(
                    workflow_id,
                    function_id,
                    queue_name=self._queue_name,
                    queue_partition_key=location_id,
                )
        except IntegrityError:
            # Forked by an earlier request that did not get to record it: nothing to add.
            log.info("inbox.fork_exists workflow=%s", fork_id)
