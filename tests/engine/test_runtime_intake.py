"""Intake alone (no worker): one durable transaction per batch, each lead once, all or nothing."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, event, func, select

from leadwire.engine.runtime import GroupIntake, LeadIn, LeadIntake
from leadwire.engine.runtime.journal import RUNS
from leadwire.engine.runtime.workflow import WORKFLOW_NAME


def _leads(n: int, *, flow: str = "intake", location: str = "loc-1") -> list[LeadIn]:
    tag = uuid.uuid4().hex[:8]
    return [LeadIn(f"{tag}-{i}", flow, 3, location, {"calls": [], "n": i}) for i in range(n)]


def test_a_batch_is_one_transaction_and_each_lead_one_workflow(
    runtime_intake: LeadIntake, runtime_reader: Engine
) -> None:
    leads = _leads(100)
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    event.listen(runtime_intake.engine, "commit", count)
    try:
        report = runtime_intake.accept_leads(leads)
    finally:
        event.remove(runtime_intake.engine, "commit", count)
    assert len(commits) == 1
    assert report.accepted == tuple(lead.run_id for lead in leads)
    assert report.duplicates == ()
    assert leads[0].run_id == f"lead:{leads[0].lead_id}:intake:v3"
    statuses = runtime_intake.client.list_workflows(
        workflow_ids=[lead.run_id for lead in leads], load_output=False
    )
    assert len(statuses) == 100
    assert {(s.status, s.name, s.queue_name, s.queue_partition_key) for s in statuses} == {
        ("ENQUEUED", WORKFLOW_NAME, "leadwire-crm", "loc-1")
    }
    inputs = statuses[0].input
    assert inputs is not None
    job, progress = inputs["args"]
    assert job["payload"]["calls"] == []
    assert progress["next_index"] == 0
    with runtime_reader.connect() as conn:
        rows = conn.execute(
            select(RUNS.c.status, func.count())
            .where(RUNS.c.run_id.in_(report.accepted))
            .group_by(RUNS.c.status)
        ).all()
    assert rows == [("queued", 100)]


def test_duplicates_in_a_batch_and_across_batches_enqueue_nothing(
    runtime_intake: LeadIntake,
) -> None:
    first, second = _leads(2)
    assert runtime_intake.accept_leads([first]).accepted == (first.run_id,)
    report = runtime_intake.accept_leads([first, second, second])
    assert report.accepted == (second.run_id,)
    assert report.duplicates == (first.run_id, second.run_id)
    newer = LeadIn(first.lead_id, first.flow_id, 4, first.location_id, {})
    assert runtime_intake.accept_leads([newer]).accepted == (newer.run_id,)


def test_a_batch_that_fails_records_nothing(
    runtime_intake: LeadIntake, runtime_reader: Engine
) -> None:
    good, bad = _leads(2)
    unstorable = LeadIn(bad.lead_id, bad.flow_id, 3, bad.location_id, {"x": lambda: None})
    with pytest.raises(Exception, match=r"pickle|lambda"):
        runtime_intake.accept_leads([good, unstorable])
    assert runtime_intake.client.list_workflows(workflow_ids=[good.run_id]) == []
    with runtime_reader.connect() as conn:
        assert (
            conn.scalar(select(func.count()).select_from(RUNS).where(RUNS.c.run_id == good.run_id))
            == 0
        )
    # Nothing was taken: the same leads go through afterwards.
    assert runtime_intake.accept_leads([good]).accepted == (good.run_id,)


def test_group_commit_shares_transactions_and_keeps_callers_apart(
    runtime_intake: LeadIntake,
) -> None:
    leads = _leads(40)
    group = GroupIntake(runtime_intake)
    commits: list[object] = []

    def count(conn: object) -> None:
        commits.append(conn)

    event.listen(runtime_intake.engine, "commit", count)
    try:
        with ThreadPoolExecutor(8) as pool:
            # Every lead handed over twice, by different callers, at the same time.
            reports = list(pool.map(lambda lead: group.accept([lead]), leads + leads))
    finally:
        event.remove(runtime_intake.engine, "commit", count)
        group.close()
    accepted = [run_id for r in reports for run_id in r.accepted]
    duplicates = [run_id for r in reports for run_id in r.duplicates]
    assert sorted(accepted) == sorted(lead.run_id for lead in leads)
    assert sorted(duplicates) == sorted(accepted)
    assert len(commits) < len(leads)  # callers shared transactions


def test_one_callers_bad_lead_fails_only_that_caller(runtime_intake: LeadIntake) -> None:
    good, bad = _leads(2)
    unstorable = LeadIn(bad.lead_id, bad.flow_id, 3, bad.location_id, {"x": lambda: None})
    group = GroupIntake(runtime_intake)
    try:
        with ThreadPoolExecutor(2) as pool:
            ok = pool.submit(group.accept, [good])
            failed = pool.submit(group.accept, [unstorable])
            assert ok.result().accepted == (good.run_id,)
            with pytest.raises(Exception, match=r"pickle|lambda"):
                failed.result()
    finally:
        group.close()
    with pytest.raises(RuntimeError, match="closed"):
        group.accept([good])
