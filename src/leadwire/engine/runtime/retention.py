"""Retention: finished runs, closed inbox items and their DBOS workflows go after a while.

What goes, and when (`prune`):

- A *finished* run (succeeded, or dismissed from the inbox) untouched for `keep_days`: its row,
  its steps, its inbox row, and every DBOS workflow of its chains — the run id, its segments
  `<run>/<n>`, its replays `<run>/replay<n>` and their segments. A run any of whose workflows
  has not ended (SUCCESS, ERROR or CANCELLED) is kept until a later prune: deleting it under
  a workflow that still runs would let that workflow write it back. Queued, waiting,
  retrying and needs-attention runs are never touched.
- A *closed* inbox item (replayed or dismissed) untouched for `inbox_keep_days`, once its run
  has finished: an item whose replay is still running keeps its replay count, which names
  the next replay. Open items stay until someone acts on them.

A run's workflows are found from its id through DBOS's own links (a segment is the child of
the one that enqueued it; a replay is a fork of the failed segment), each checked to be named
under the run; they are deleted with DBOS's `delete_workflows`, which clears their inputs,
outputs and step checkpoints, its foreign keys cascading to the rest. DBOS rows go first and
the run's rows after, so a prune cut short leaves the run to be found again, never orphans.

Everything is deleted in batches of a few hundred runs, one short transaction each, so a big
first prune never holds SQLite's write lock for long. On SQLite the WAL is then checkpointed
and truncated; freed pages are given back with `incremental_vacuum` only if the file was
created with `auto_vacuum=INCREMENTAL` — otherwise they are reused by new rows, and only a
`VACUUM` (`vacuum_sqlite`, with the workers stopped) shrinks the file.

Deleting a run does not forget its lead: intake's (lead, flow) pairs (`lw_lead_flows`) are
kept, so a lead delivered again after its run was pruned still starts nothing.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from dbos import DBOSClient
from sqlalchemy import Engine, and_, delete, func, not_, or_, select

from leadwire.engine.runtime.housekeeping import every
from leadwire.engine.runtime.journal import INBOX, RUNS, STEPS
from leadwire.engine.runtime.options import APP_NAME
from leadwire.engine.runtime.system_db import open_engine
from leadwire.settings import Settings
from leadwire.store.models.runs import InboxStatus, RunStatus
from leadwire.store.types import utcnow

log = logging.getLogger(__name__)

BATCH_SIZE = 500
FINISHED = (RunStatus.SUCCEEDED.value, RunStatus.DISMISSED.value)
CLOSED = (InboxStatus.REPLAYED.value, InboxStatus.DISMISSED.value)
ENDED = frozenset({"SUCCESS", "ERROR", "CANCELLED", "MAX_RECOVERY_ATTEMPTS_EXCEEDED"})
# Give pages back only when enough are free to matter: 10% of the file and at least 4 MiB.
_VACUUM_MIN_FREE_PAGES = 1024
_VACUUM_MIN_FREE_SHARE = 0.1
# How long the checkpoint waits for readers and writers before settling for less.
_CHECKPOINT_BUSY_MS = 2000
_AUTO_VACUUM_MODES = {0: "none", 1: "full", 2: "incremental"}


@dataclass(frozen=True, slots=True)
class Compaction:
    """What a SQLite file looked like after a prune, and what was done about it."""

    wal_truncated: bool
    page_count: int
    freelist_pages: int
    auto_vacuum: str
    vacuumed_pages: int


@dataclass(frozen=True, slots=True)
class PruneReport:
    """What a prune deleted (or, in a dry run, would delete)."""

    runs: int = 0
    steps: int = 0
    inbox_items: int = 0
    workflows: int = 0
    # Finished runs past retention kept because one of their workflows has not ended.
    kept_running: int = 0
    dry_run: bool = False
    compaction: Compaction | None = None


def prune(
    database: Engine | str,
    *,
    keep_days: float,
    inbox_keep_days: float,
    now: datetime | None = None,
    dry_run: bool = False,
    batch_size: int = BATCH_SIZE,
    pause_s: float = 0.0,
) -> PruneReport:
    """Delete finished runs, closed inbox items and their workflows past their retention.

    `database` is the engine's database: an engine from `system_db.open_engine` (e.g. the
    worker's), or its URL (opened and closed here). `pause_s` is slept between batches,
    letting other writers at SQLite's lock.
    """
    if keep_days < 0 or inbox_keep_days < 0:
        raise ValueError("retention days must not be negative")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    now = now or utcnow()
    if now.tzinfo is None:
        raise ValueError("now must be an aware datetime")
    with _engine(database) as engine:
        client = DBOSClient(system_database_engine=engine, application_name=APP_NAME, lazy=True)
        try:
            report = _prune_runs(
                engine, client, now - timedelta(days=keep_days), dry_run, batch_size, pause_s
            )
        finally:
            client.destroy()
        report = _prune_inbox(
            engine,
            report,
            now - timedelta(days=inbox_keep_days),
            now - timedelta(days=keep_days),
            batch_size,
            pause_s,
        )
        if not dry_run and engine.dialect.name == "sqlite":
            report = replace(report, compaction=compact_sqlite(engine))
    log.info(
        "retention.pruned dry_run=%s runs=%d steps=%d inbox_items=%d workflows=%d kept_running=%d",
        dry_run,
        report.runs,
        report.steps,
        report.inbox_items,
        report.workflows,
        report.kept_running,
    )
    return report


@contextmanager
def _engine(database: Engine | str) -> Iterator[Engine]:
    if isinstance(database, Engine):
        yield database
        return
    # Relaxed commits: a deletion lost to a power cut is only done again by the next prune.
    engine = open_engine(database, synchronous="NORMAL", pool_size=2, relaxed=True)
    try:
        yield engine
    finally:
        engine.dispose()


def _prune_runs(
    engine: Engine,
    client: DBOSClient,
    cutoff: datetime,
    dry_run: bool,
    batch_size: int,
    pause_s: float,
) -> PruneReport:
    report = PruneReport(dry_run=dry_run)
    for status in FINISHED:
        after: tuple[datetime, str] | None = None
        while True:
            batch = _finished_runs(engine, status, cutoff, after, batch_size)
            if not batch:
                break
            after = batch[-1]
            run_ids = [run_id for _, run_id in batch]
            workflows, running = _workflows_of(client, run_ids)
            done = [run_id for run_id in run_ids if run_id not in running]
            ids = [wid for run_id in done for wid in workflows.get(run_id, ())]
            report = replace(
                report,
                workflows=report.workflows + len(ids),
                kept_running=report.kept_running + len(running),
            )
            if dry_run:
                report = _count_runs(engine, report, done)
            else:
                for chunk in _chunks(ids, batch_size):
                    client.delete_workflows(chunk)
                report = _delete_runs(engine, report, done, cutoff)
            if len(batch) < batch_size:
                break
            if pause_s:
                time.sleep(pause_s)
    return report


def _finished_runs(
    engine: Engine,
    status: str,
    cutoff: datetime,
    after: tuple[datetime, str] | None,
    limit: int,
) -> list[tuple[datetime, str]]:
    """Return the next (updated_at, run_id) of finished runs past `cutoff`, oldest first."""
    # (status, updated_at) is indexed: each batch is one range scan, in order.
    query = (
        select(RUNS.c.updated_at, RUNS.c.run_id)
        .where(_past(cutoff), RUNS.c.status == status)
        .order_by(RUNS.c.updated_at, RUNS.c.run_id)
        .limit(limit)
    )
    if after is not None:
        # Runs kept (still running, or a dry run) are stepped over, not selected again.
        query = query.where(
            or_(
                RUNS.c.updated_at > after[0],
                and_(RUNS.c.updated_at == after[0], RUNS.c.run_id > after[1]),
            )
        )
    with engine.connect() as conn:
        return [(row.updated_at, row.run_id) for row in conn.execute(query)]


def _past(cutoff: datetime) -> Any:
    """Say whether a run finished and was last touched (e.g. dismissed) before `cutoff`."""
    return and_(
        RUNS.c.updated_at < cutoff,
        or_(RUNS.c.finished_at.is_(None), RUNS.c.finished_at < cutoff),
    )


def _workflows_of(
    client: DBOSClient, run_ids: Sequence[str]
) -> tuple[dict[str, list[str]], set[str]]:
    """Return each run's workflow ids, and the runs one of whose workflows has not ended."""
    owner: dict[str, str] = {}
    running: set[str] = set()

    found = _list(run_ids, lambda ids: _lean(client, workflow_ids=ids))
    while found:
        fresh: list[str] = []
        for status in found:
            wid = status.workflow_id
            if wid in owner:
                continue
            run_id = _owner(owner, wid, status.parent_workflow_id, status.forked_from)
            if run_id is None:
                continue
            owner[wid] = run_id
            fresh.append(wid)
            if wid != run_id and not wid.startswith(f"{run_id}/"):
                # Linked to the run but not named under it: not ours to judge; keep the run.
                log.warning("retention.foreign_workflow workflow=%s", wid)
                running.add(run_id)
            elif status.status not in ENDED:
                running.add(run_id)
        # A segment is the child of the one that enqueued it; a replay, a fork of a segment.
        found = _list(fresh, lambda ids: _lean(client, parent_workflow_id=ids)) + _list(
            fresh, lambda ids: _lean(client, forked_from=ids)
        )
    workflows: dict[str, list[str]] = {}
    for wid, run_id in owner.items():
        workflows.setdefault(run_id, []).append(wid)
    return workflows, running


def _owner(
    owner: dict[str, str], wid: str, parent: str | None, forked_from: str | None
) -> str | None:
    if parent is not None and parent in owner:
        return owner[parent]
    if forked_from is not None and forked_from in owner:
        return owner[forked_from]
    # A run's first workflow bears the run's id.
    return wid if parent is None and forked_from is None else None


def _lean(
    client: DBOSClient,
    *,
    workflow_ids: list[str] | None = None,
    parent_workflow_id: list[str] | None = None,
    forked_from: list[str] | None = None,
) -> list[Any]:
    return client.list_workflows(
        workflow_ids=workflow_ids,
        parent_workflow_id=parent_workflow_id,
        forked_from=forked_from,
        load_input=False,
        load_output=False,
    )


def _list(ids: Sequence[str], fetch: Callable[[list[str]], list[Any]]) -> list[Any]:
    found: list[Any] = []
    for chunk in _chunks(list(ids), BATCH_SIZE):
        found.extend(fetch(chunk))
    return found


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _count_runs(engine: Engine, report: PruneReport, run_ids: list[str]) -> PruneReport:
    with engine.connect() as conn:
        steps = conn.scalar(
            select(func.count()).select_from(STEPS).where(STEPS.c.run_id.in_(run_ids))
        )
        inbox = conn.scalar(
            select(func.count()).select_from(INBOX).where(INBOX.c.run_id.in_(run_ids))
        )
    return replace(
        report,
        runs=report.runs + len(run_ids),
        steps=report.steps + (steps or 0),
        inbox_items=report.inbox_items + (inbox or 0),
    )


def _delete_runs(
    engine: Engine, report: PruneReport, run_ids: list[str], cutoff: datetime
) -> PruneReport:
    """Delete the runs (still finished and past `cutoff`), their steps and inbox rows."""
    if not run_ids:
        return report
    # The condition again, in the deleting transaction: nothing that changed since goes.
    gone = select(RUNS.c.run_id).where(
        RUNS.c.run_id.in_(run_ids), RUNS.c.status.in_(FINISHED), _past(cutoff)
    )
    with engine.begin() as conn:
        # Children first: SQLite enforces (and cascades) foreign keys only where turned on.
        steps = conn.execute(delete(STEPS).where(STEPS.c.run_id.in_(gone))).rowcount
        inbox = conn.execute(delete(INBOX).where(INBOX.c.run_id.in_(gone))).rowcount
        runs = conn.execute(
            delete(RUNS).where(
                RUNS.c.run_id.in_(run_ids), RUNS.c.status.in_(FINISHED), _past(cutoff)
            )
        ).rowcount
    return replace(
        report,
        runs=report.runs + runs,
        steps=report.steps + steps,
        inbox_items=report.inbox_items + inbox,
    )


def _prune_inbox(
    engine: Engine,
    report: PruneReport,
    cutoff: datetime,
    run_cutoff: datetime,
    batch_size: int,
    pause_s: float,
) -> PruneReport:
    """Delete closed inbox items past `cutoff` whose runs have finished (but are kept).

    Items of runs past `run_cutoff` are the runs' phase's: left out here, a dry run counts
    each item once.
    """
    kept_finished = select(RUNS.c.run_id).where(
        RUNS.c.status.in_(FINISHED), not_(_past(run_cutoff))
    )
    closed = and_(
        INBOX.c.status.in_(CLOSED),
        INBOX.c.updated_at < cutoff,
        INBOX.c.run_id.in_(kept_finished),
    )
    after = ""
    while True:
        with engine.connect() as conn:
            run_ids = list(
                conn.scalars(
                    select(INBOX.c.run_id)
                    .where(closed, INBOX.c.run_id > after)
                    .order_by(INBOX.c.run_id)
                    .limit(batch_size)
                )
            )
        if not run_ids:
            return report
        after = run_ids[-1]
        if report.dry_run:
            deleted = len(run_ids)
        else:
            with engine.begin() as conn:
                deleted = conn.execute(
                    delete(INBOX).where(INBOX.c.run_id.in_(run_ids), closed)
                ).rowcount
        report = replace(report, inbox_items=report.inbox_items + deleted)
        if len(run_ids) < batch_size:
            return report
        if pause_s:
            time.sleep(pause_s)


def compact_sqlite(engine: Engine) -> Compaction:
    """Give free pages back if the file allows it cheaply, then checkpoint and truncate the WAL.

    Never a full `VACUUM`: it rewrites the whole file holding the write lock (see
    `vacuum_sqlite`). Outside a transaction, on a raw connection: a checkpoint cannot run
    inside one.
    """
    with _raw(engine) as cursor:
        mode = _AUTO_VACUUM_MODES.get(_pragma(cursor, "auto_vacuum"), "unknown")
        pages = _pragma(cursor, "page_count")
        free = _pragma(cursor, "freelist_count")
        vacuumed = 0
        if free >= max(_VACUUM_MIN_FREE_PAGES, pages * _VACUUM_MIN_FREE_SHARE):
            if mode == "incremental":
                # The pragma frees one page per step, and the driver's execute steps once:
                # executescript runs it to completion.
                cursor.executescript("PRAGMA incremental_vacuum;")
                vacuumed = free - _pragma(cursor, "freelist_count")
            else:
                log.info(
                    "retention.free_pages pages=%d auto_vacuum=%s: reused by new rows; "
                    "VACUUM with the workers stopped to shrink the file",
                    free,
                    mode,
                )
        truncated = _checkpoint(cursor)
        return Compaction(
            wal_truncated=truncated,
            page_count=_pragma(cursor, "page_count"),
            freelist_pages=_pragma(cursor, "freelist_count"),
            auto_vacuum=mode,
            vacuumed_pages=vacuumed,
        )


def vacuum_sqlite(engine: Engine) -> Compaction:
    """Rewrite the SQLite file without its free pages (`VACUUM`): only with the workers stopped."""
    with _raw(engine) as cursor:
        cursor.execute("VACUUM")
    return compact_sqlite(engine)


@contextmanager
def _raw(engine: Engine) -> Iterator[Any]:
    connection = engine.raw_connection()
    try:
        driver: Any = connection.driver_connection
        if driver.in_transaction:
            driver.rollback()
        cursor = driver.cursor()
        try:
            yield cursor
        finally:
            cursor.close()
    finally:
        connection.close()


def _pragma(cursor: Any, name: str) -> int:
    return int(cursor.execute(f"PRAGMA {name}").fetchone()[0])


def _checkpoint(cursor: Any) -> bool:
    """Checkpoint the whole WAL and truncate it; say whether it could (no reader in the way)."""
    previous = _pragma(cursor, "busy_timeout")
    # TRUNCATE blocks new writers while it waits for readers: wait briefly, not 30 s.
    cursor.execute(f"PRAGMA busy_timeout={_CHECKPOINT_BUSY_MS}")
    try:
        busy = cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
    finally:
        cursor.execute(f"PRAGMA busy_timeout={previous}")
    return int(busy) == 0


class Pruner:
    """Prunes the engine's database every so often; a worker runs it in a thread."""

    def __init__(
        self,
        database: Engine | str,
        *,
        keep_days: float,
        inbox_keep_days: float,
        clock: Callable[[], datetime] = utcnow,
        pause_s: float = 0.05,
    ) -> None:
        self._database = database
        self._keep_days = keep_days
        self._inbox_keep_days = inbox_keep_days
        self._clock = clock
        self._pause_s = pause_s

    @classmethod
    def from_settings(cls, settings: Settings, database: Engine | None = None) -> Pruner:
        """Return a pruner keeping what `settings` say, on `database` (default: the app URL)."""
        return cls(
            database if database is not None else settings.app_url(),
            keep_days=settings.engine_retention_days,
            inbox_keep_days=settings.engine_inbox_retention_days,
        )

    def run_once(self) -> PruneReport:
        """Prune now."""
        return prune(
            self._database,
            keep_days=self._keep_days,
            inbox_keep_days=self._inbox_keep_days,
            now=self._clock(),
            pause_s=self._pause_s,
        )

    def run_forever(self, stop: threading.Event, interval_s: float) -> None:
        """Prune now and every `interval_s` until `stop` is set; a failed prune waits its turn."""
        every(stop, interval_s, self.run_once, "retention.prune")
