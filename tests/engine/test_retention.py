"""Retention: finished runs, closed inbox items and their DBOS workflows pruned; nothing else."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import typer
from sqlalchemy import Engine, column, create_engine, func, insert, select, table, update
from typer.testing import CliRunner

from leadwire.cli.runs_prune import prune as prune_command
from leadwire.engine.runtime import LeadIn, LeadIntake, RuntimeOptions
from leadwire.engine.runtime.journal import INBOX, RUNS, STEPS
from leadwire.engine.runtime.retention import Pruner, PruneReport, prune
from leadwire.engine.runtime.system_db import migrate_system_tables
from leadwire.settings import Settings
from leadwire.store.app import open_app_store
from leadwire.store.types import utcnow
from tests.conftest import make_settings
from tests.databases import postgres_database
from tests.engine.conftest import RuntimeTenant, WorkerProcess, wait_until
from tests.engine.test_runtime_calls import lead_payload

# --- helpers --------------------------------------------------------------------------------


def _reader(url: str) -> Engine:
    return create_engine(url.replace("postgresql://", "postgresql+psycopg://"))


def _workflow_rows(reader: Engine, name: str, ids: Sequence[str]) -> set[str]:
    """Return which of `ids` have a row in DBOS's table `name`."""
    schema = "dbos" if reader.dialect.name == "postgresql" else None
    dbos_table = table(name, column("workflow_uuid"), schema=schema)
    query = select(dbos_table.c.workflow_uuid).where(dbos_table.c.workflow_uuid.in_(ids))
    with reader.connect() as conn:
        return set(conn.scalars(query.distinct()))


def _run_ids(reader: Engine, rows: Any = RUNS) -> set[str]:
    with reader.connect() as conn:
        return set(conn.scalars(select(rows.c.run_id)))


def _age(reader: Engine, run_ids: Sequence[str], at: datetime, *, runs: bool = True) -> None:
    """Backdate runs (and their inbox rows) as if last touched at `at`."""
    with reader.begin() as conn:
        if runs:
            conn.execute(
                update(RUNS).where(RUNS.c.run_id.in_(run_ids)).values(updated_at=at, finished_at=at)
            )
        conn.execute(update(INBOX).where(INBOX.c.run_id.in_(run_ids)).values(updated_at=at))


def _set_run(reader: Engine, run_id: str, status: str, at: datetime) -> None:
    finished = at if status in ("succeeded", "needs_attention", "dismissed") else None
    with reader.begin() as conn:
        conn.execute(
            update(RUNS)
            .where(RUNS.c.run_id == run_id)
            .values(status=status, updated_at=at, finished_at=finished)
        )


def _add_inbox(reader: Engine, lead: LeadIn, status: str, at: datetime) -> None:
    with reader.begin() as conn:
        conn.execute(
            insert(INBOX).values(
                run_id=lead.run_id,
                lead_id=lead.lead_id,
                flow_id=lead.flow_id,
                flow_version=lead.flow_version,
                location_id=lead.location_id,
                failed_step="note",
                step_position=3,
                error_type="BadRequestError",
                error_message="the CRM answered 400",
                attempts=1,
                first_failed_at=at,
                last_failed_at=at,
                status=status,
                workflow_id=lead.run_id,
                function_id=1,
                replays=1 if status == "replayed" else 0,
                updated_at=at,
            )
        )


def _add_steps(reader: Engine, run_id: str, count: int, at: datetime) -> None:
    with reader.begin() as conn:
        conn.execute(
            insert(STEPS),
            [
                {
                    "run_id": run_id,
                    "position": n,
                    "step_id": f"step-{n}",
                    "status": "ok",
                    "summary": "POST /contacts/upsert",
                    "outputs": {},
                    "crm_ids": {},
                    "error_type": None,
                    "error_message": None,
                    "attempts": 1,
                    "duration_ms": 3,
                    "started_at": at,
                    "workflow_id": run_id,
                }
                for n in range(count)
            ],
        )


def _leads(names: Sequence[str], flow: str = "keep") -> dict[str, LeadIn]:
    tag = uuid.uuid4().hex[:8]
    return {name: LeadIn(f"{tag}-{name}", flow, 1, "loc-1", {"calls": []}) for name in names}


# --- a database per test, no worker: states set by hand, DBOS rows real -------------------


@pytest.fixture
def engine_settings(backend: str, tmp_path: Path) -> Iterator[Settings]:
    """Settings on a fresh engine database (app tables and DBOS's), on this test's backend."""
    if backend == "postgres":
        with postgres_database() as url:
            settings = make_settings(tmp_path, database_url=url)
            open_app_store(settings).engine.dispose()
            yield settings
        return
    settings = make_settings(tmp_path)
    open_app_store(settings).engine.dispose()
    yield settings


@pytest.fixture
def intake(engine_settings: Settings) -> Iterator[LeadIntake]:
    """Intake on the fresh database (no worker runs: workflows stay ENQUEUED unless cancelled)."""
    opened = LeadIntake.open(RuntimeOptions.from_settings(engine_settings))
    yield opened
    opened.close()


@pytest.fixture
def reader(engine_settings: Settings) -> Iterator[Engine]:
    engine = _reader(engine_settings.app_url())
    yield engine
    engine.dispose()


def test_only_finished_runs_whose_workflows_ended_go(
    engine_settings: Settings, intake: LeadIntake, reader: Engine
) -> None:
    now = utcnow()
    old, fortnight = now - timedelta(days=40), now - timedelta(days=20)
    leads = _leads(
        [
            "queued",
            "waiting",
            "retrying",
            "open",
            "running",
            "done",
            "dismissed",
            "recent",
            "replayed",
            "replay_running",
        ]
    )
    ids = {name: lead.run_id for name, lead in leads.items()}
    intake.accept_leads(list(leads.values()))
    for name in ("done", "dismissed", "recent", "replayed", "replay_running"):
        intake.client.cancel_workflow(ids[name])  # ended (CANCELLED) without a worker
    _set_run(reader, ids["queued"], "queued", old)
    _set_run(reader, ids["waiting"], "waiting", old)
    _set_run(reader, ids["retrying"], "retrying", old)
    _set_run(reader, ids["open"], "needs_attention", old)
    _add_inbox(reader, leads["open"], "open", old)
    # Finished by the app's rows, but its workflow has not ended: deleting it now would let
    # the workflow write it back.
    _set_run(reader, ids["running"], "succeeded", old)
    _set_run(reader, ids["done"], "succeeded", old)
    _add_steps(reader, ids["done"], 3, old)
    _set_run(reader, ids["dismissed"], "dismissed", old)
    _add_inbox(reader, leads["dismissed"], "dismissed", old)
    _set_run(reader, ids["recent"], "succeeded", now - timedelta(days=29))
    # Succeeded after a replay 20 days ago: the closed item goes, the run stays.
    _set_run(reader, ids["replayed"], "succeeded", fortnight)
    _add_inbox(reader, leads["replayed"], "replayed", fortnight)
    # Replayed 20 days ago and still retrying: the item keeps the replay count.
    _set_run(reader, ids["replay_running"], "retrying", fortnight)
    _add_inbox(reader, leads["replay_running"], "replayed", fortnight)
    wal = Path(f"{engine_settings.app_url().removeprefix('sqlite:///')}-wal")
    if reader.dialect.name == "sqlite":
        assert wal.stat().st_size > 0

    counted = prune(
        engine_settings.app_url(), keep_days=30, inbox_keep_days=14, now=now, dry_run=True
    )
    expected = PruneReport(
        runs=2, steps=3, inbox_items=2, workflows=2, kept_running=1, dry_run=True
    )
    assert counted == expected
    assert _run_ids(reader) == set(ids.values())  # a dry run deletes nothing

    report = prune(engine_settings.app_url(), keep_days=30, inbox_keep_days=14, now=now)
    assert (report.runs, report.steps, report.inbox_items, report.workflows) == (2, 3, 2, 2)
    assert report.kept_running == 1
    gone = {ids["done"], ids["dismissed"]}
    assert _run_ids(reader) == set(ids.values()) - gone
    assert _run_ids(reader, STEPS) == set()
    assert _run_ids(reader, INBOX) == {ids["open"], ids["replay_running"]}
    everything = list(ids.values())
    for name in ("workflow_status", "workflow_input"):
        assert _workflow_rows(reader, name, everything) == set(everything) - gone, name

    if reader.dialect.name == "sqlite":
        assert report.compaction is not None
        assert report.compaction.wal_truncated
        assert wal.stat().st_size == 0
        # New files use incremental auto-vacuum (store.database, runtime.system_db).
        assert report.compaction.auto_vacuum == "incremental"
    else:
        assert report.compaction is None
    again = prune(engine_settings.app_url(), keep_days=30, inbox_keep_days=14, now=now)
    assert (again.runs, again.inbox_items, again.workflows, again.kept_running) == (0, 0, 0, 1)


def _old_finished_runs(intake: LeadIntake, reader: Engine, count: int) -> list[str]:
    leads = _leads([f"n{i}" for i in range(count)], flow="cli")
    intake.accept_leads(list(leads.values()))
    old = utcnow() - timedelta(days=40)
    for lead in leads.values():
        intake.client.cancel_workflow(lead.run_id)
        _set_run(reader, lead.run_id, "succeeded", old)
        _add_steps(reader, lead.run_id, 2, old)
    return [lead.run_id for lead in leads.values()]


def test_small_batches_prune_everything(
    engine_settings: Settings, intake: LeadIntake, reader: Engine
) -> None:
    run_ids = _old_finished_runs(intake, reader, 7)
    report = prune(reader, keep_days=30, inbox_keep_days=14, batch_size=2)
    assert (report.runs, report.steps, report.workflows) == (7, 14, 7)
    assert _run_ids(reader) == set()
    assert _workflow_rows(reader, "workflow_status", run_ids) == set()


def _cli(settings: Settings, *args: str) -> str:
    app = typer.Typer()

    @app.callback()
    def main() -> None:
        """The `runs` group the lead registers the command under."""

    app.command("prune")(prune_command)
    result = CliRunner().invoke(app, ["prune", *args], obj=settings)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_command_counts_then_prunes(
    engine_settings: Settings, intake: LeadIntake, reader: Engine
) -> None:
    run_ids = _old_finished_runs(intake, reader, 3)
    dry = _cli(engine_settings, "--dry-run")
    assert "would delete" in dry
    assert "runs                 3" in dry
    assert "steps                6" in dry
    assert _run_ids(reader) == set(run_ids)

    assert "runs                 0" in _cli(engine_settings, "--older-than-days", "41")
    assert _run_ids(reader) == set(run_ids)

    done = _cli(engine_settings)
    assert "deleted" in done
    assert "workflows            3" in done
    assert _run_ids(reader) == set()
    assert _workflow_rows(reader, "workflow_status", run_ids) == set()

    vacuumed = _cli(engine_settings, "--vacuum")
    if reader.dialect.name == "sqlite":
        assert "WAL truncated" in vacuumed
        assert "vacuumed" in vacuumed
    else:
        assert "autovacuum" in vacuumed


def test_the_pruner_prunes_until_stopped(
    engine_settings: Settings, intake: LeadIntake, reader: Engine
) -> None:
    run_ids = _old_finished_runs(intake, reader, 2)
    stop = threading.Event()
    pruner = Pruner.from_settings(engine_settings)
    thread = threading.Thread(target=pruner.run_forever, args=(stop, 3600.0))
    thread.start()
    try:
        wait_until(lambda: not _run_ids(reader), 20)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()
    assert _workflow_rows(reader, "workflow_status", run_ids) == set()


# --- real runs by a worker: segments, retries, replays ------------------------------------


def _real_lead(tenant: RuntimeTenant) -> LeadIn:
    lead_id = uuid.uuid4().hex[:12]
    run_id = f"lead:{lead_id}:prune:v1"
    payload = lead_payload(run_id, tenant.location_id, f"{lead_id}@example.com")
    return LeadIn(lead_id, "prune", 1, tenant.location_id, payload)


def _status(reader: Engine, run_id: str) -> str | None:
    with reader.connect() as conn:
        return conn.scalar(select(RUNS.c.status).where(RUNS.c.run_id == run_id))


def _wait(reader: Engine, run_id: str, status: str) -> None:
    wait_until(lambda: _status(reader, run_id) == status, 30)


def test_real_runs_go_with_every_workflow_of_their_chains(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
    runtime_db: str,
) -> None:
    proxy = runtime_tenant.proxy
    names = ("done", "retried", "replayed", "dismissed", "open", "recent")
    leads = {name: _real_lead(runtime_tenant) for name in names}
    ids = {name: lead.run_id for name, lead in leads.items()}
    proxy.fail(f"{ids['retried']}:tags", (503, {}))
    proxy.fail(f"{ids['replayed']}:note", (400, {}))
    proxy.fail(f"{ids['dismissed']}:task", (422, {}))
    proxy.fail(f"{ids['open']}:note", (400, {}))
    runtime_intake.accept_leads(list(leads.values()))
    for name in ("replayed", "dismissed", "open"):
        _wait(runtime_reader, ids[name], "needs_attention")
    inbox = runtime_intake.inbox()
    assert inbox.replay(ids["replayed"]) == f"{ids['replayed']}/replay1"
    assert inbox.dismiss(ids["dismissed"])
    for name in ("done", "retried", "replayed", "recent"):
        _wait(runtime_reader, ids[name], "succeeded")

    def workflows(name: str) -> set[str]:
        found = runtime_intake.client.list_workflows(
            workflow_id_prefix=ids[name], load_input=False, load_output=False
        )
        return {s.workflow_id for s in found}

    # Wait for DBOS to record the last segments' ends (just after the runs' rows).
    wait_until(
        lambda: all(
            s.status == "SUCCESS"
            for s in runtime_intake.client.list_workflows(
                workflow_id_prefix=[ids[n] for n in names if n != "open"],
                load_input=False,
                load_output=False,
            )
        ),
        30,
    )
    chains = {name: workflows(name) for name in names}
    assert chains["retried"] == {ids["retried"], f"{ids['retried']}/1"}
    assert chains["replayed"] == {ids["replayed"], f"{ids['replayed']}/replay1"}

    now = utcnow()
    # Closed inbox items past their 14 days go first; their finished runs stay for 30.
    _age(
        runtime_reader,
        [ids["replayed"], ids["dismissed"], ids["open"]],
        now - timedelta(days=20),
        runs=False,
    )
    first = prune(runtime_db, keep_days=30, inbox_keep_days=14, now=now)
    assert (first.runs, first.inbox_items, first.workflows) == (0, 2, 0)
    assert _run_ids(runtime_reader, INBOX) >= {ids["open"]}
    assert not _run_ids(runtime_reader, INBOX) & {ids["replayed"], ids["dismissed"]}

    gone = {"done", "retried", "replayed", "dismissed"}
    with runtime_reader.connect() as conn:
        steps = conn.scalar(
            select(func.count())
            .select_from(STEPS)
            .where(STEPS.c.run_id.in_([ids[n] for n in gone]))
        )
    past = [ids[n] for n in names if n != "recent"]
    _age(runtime_reader, past, now - timedelta(days=40))
    report = prune(runtime_db, keep_days=30, inbox_keep_days=14, now=now)
    gone_workflows = set().union(*(chains[n] for n in gone))
    assert (report.runs, report.workflows, report.kept_running) == (4, len(gone_workflows), 0)
    assert report.steps == steps
    left = _run_ids(runtime_reader)
    assert not left & {ids[n] for n in gone}
    assert {ids["open"], ids["recent"]} <= left
    assert not _run_ids(runtime_reader, STEPS) & {ids[n] for n in gone}
    kept_workflows = chains["open"] | chains["recent"]
    every = sorted(gone_workflows | kept_workflows)
    for name in ("workflow_status", "operation_outputs", "workflow_input", "workflow_output"):
        assert not _workflow_rows(runtime_reader, name, every) & gone_workflows, name
    assert _workflow_rows(runtime_reader, "workflow_status", every) == kept_workflows
    assert _workflow_rows(runtime_reader, "operation_outputs", every) == kept_workflows


def test_freed_pages_go_back_to_the_disk_when_the_file_allows_it(tmp_path: Path) -> None:
    path = tmp_path / "leadwire.db"
    with sqlite3.connect(path) as conn:
        # Only a file created so (before its first table) can give pages back without VACUUM.
        conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
    settings = make_settings(tmp_path)
    open_app_store(settings).engine.dispose()
    migrate_system_tables(settings.app_url())
    reader = _reader(settings.app_url())
    old = utcnow() - timedelta(days=40)
    try:
        with reader.begin() as conn:
            conn.execute(
                insert(RUNS),
                [
                    {
                        "run_id": f"lead:{n}:big:v1",
                        "lead_id": str(n),
                        "flow_id": "big",
                        "flow_version": 1,
                        "location_id": "loc-1",
                        "status": "succeeded",
                        "workflow_id": f"lead:{n}:big:v1",
                        "attempts": 1,
                        "received_at": old,
                        "updated_at": old,
                        "finished_at": old,
                        "crm_ids": {},
                    }
                    for n in range(1500)
                ],
            )
            conn.execute(
                update(RUNS).values(error_message="x" * 4000)  # about a page each
            )
        size = path.stat().st_size
        report = prune(reader, keep_days=30, inbox_keep_days=14)
        assert report.runs == 1500
        compaction = report.compaction
        assert compaction is not None
        assert compaction.auto_vacuum == "incremental"
        assert compaction.vacuumed_pages >= 1024
        assert compaction.freelist_pages == 0
        assert compaction.wal_truncated
        assert path.stat().st_size < size / 2
    finally:
        reader.dispose()
