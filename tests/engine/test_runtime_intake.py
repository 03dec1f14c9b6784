"""Intake alone (no worker): one durable transaction per batch, each lead once, all or nothing."""

from __future__ import annotations

import dataclasses
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import Engine, event, func, select

from leadwire.engine.runtime import GroupIntake, LeadIn, LeadIntake, RuntimeOptions
from leadwire.engine.runtime.intake import LEAD_FLOWS
from leadwire.engine.runtime.journal import RUNS
from leadwire.engine.runtime.workflow import WORKFLOW_NAME
from leadwire.engine.sources.targets import TriggeredRun


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


def _delivered(lead: LeadIn, version: int) -> LeadIn:
    """The lead as a delivery brings it, in `version` of its flow."""
    return dataclasses.replace(lead, flow_version=version, once_per_flow=True)


def test_a_delivered_lead_runs_once_per_flow_whatever_the_version(
    runtime_intake: LeadIntake,
) -> None:
    (lead,) = _leads(1)
    v3, v4 = _delivered(lead, 3), _delivered(lead, 4)
    assert runtime_intake.accept_leads([v3]).accepted == (v3.run_id,)
    # A redelivery after the flow moved to v4 starts nothing.
    assert runtime_intake.accept_leads([v4]).duplicates == (v4.run_id,)
    assert runtime_intake.client.list_workflows(workflow_ids=[v4.run_id]) == []
    # Both versions in one batch: the first one only.
    (other,) = _leads(1)
    report = runtime_intake.accept_leads([_delivered(other, 4), _delivered(other, 3)])
    assert report.accepted == (_delivered(other, 4).run_id,)
    assert report.duplicates == (_delivered(other, 3).run_id,)
    # A deliberate run through a newer version (a re-run) is not a delivery: it runs.
    assert runtime_intake.accept_leads([LeadIn(lead.lead_id, "intake", 5, "loc-1")]).accepted


def test_a_deliberate_run_counts_as_the_flow_having_run_the_lead(
    runtime_intake: LeadIntake,
) -> None:
    (lead,) = _leads(1)
    manual = dataclasses.replace(lead, flow_version=2)
    assert runtime_intake.accept_leads([manual]).accepted == (manual.run_id,)
    delivered = _delivered(lead, 3)
    assert runtime_intake.accept_leads([delivered]).duplicates == (delivered.run_id,)


def test_runs_of_events_and_schedules_keep_no_lead_pair(
    runtime_intake: LeadIntake, runtime_reader: Engine
) -> None:
    subject = f"crm:{uuid.uuid4().hex[:12]}"
    run = TriggeredRun(subject, "intake", 1, "loc-1", run_key=f"event:{subject}:intake:v1")
    assert runtime_intake.accept_leads([run]).accepted == (run.run_id,)
    assert runtime_intake.accept_leads([run]).duplicates == (run.run_id,)  # its id is taken
    with runtime_reader.connect() as conn:
        pairs = conn.scalar(select(func.count()).where(LEAD_FLOWS.c.lead_id == subject))
    assert pairs == 0


def test_a_lead_stays_run_when_its_run_is_pruned(
    runtime_intake: LeadIntake, runtime_reader: Engine
) -> None:
    (lead,) = _leads(1)
    first = _delivered(lead, 3)
    assert runtime_intake.accept_leads([first]).accepted
    # What retention deletes: the run's row and its workflow.
    with runtime_intake.engine.begin() as conn:
        conn.execute(RUNS.delete().where(RUNS.c.run_id == first.run_id))
    runtime_intake.client.delete_workflows([first.run_id])
    assert runtime_intake.accept_leads([first]).duplicates == (first.run_id,)
    assert runtime_intake.accept_leads([_delivered(lead, 4)]).accepted == ()
    with runtime_reader.connect() as conn:
        assert conn.scalar(select(func.count()).where(RUNS.c.lead_id == lead.lead_id)) == 0


def test_racing_deliveries_of_one_lead_in_two_versions_start_one_run(
    runtime_intake: LeadIntake, runtime_db: str
) -> None:
    second = LeadIntake.open(RuntimeOptions(database_url=runtime_db), migrate=False)
    leads = _leads(30)
    try:
        with ThreadPoolExecutor(2) as pool:
            # Each lead at once through two connections, as two receivers would after a publish.
            old = pool.submit(runtime_intake.accept_leads, [_delivered(ld, 3) for ld in leads])
            new = pool.submit(second.accept_leads, [_delivered(ld, 4) for ld in leads])
            reports = [old.result(), new.result()]
    finally:
        second.close()
    accepted = [run_id for r in reports for run_id in r.accepted]
    assert len(accepted) == len(leads)
    assert {run_id.rsplit(":", 1)[0] for run_id in accepted} == {
        ld.run_id.rsplit(":", 1)[0] for ld in leads
    }
    assert sum(len(r.duplicates) for r in reports) == len(leads)


def test_a_caller_that_gives_up_before_the_commit_is_left_out(runtime_intake: LeadIntake) -> None:
    gone, kept = _leads(2)
    group = GroupIntake(runtime_intake)
    try:
        with group._ready:  # hold the committer back while the first caller gives up
            given_up = group.submit([gone])
            assert given_up.cancel()
        assert group.accept([kept]).accepted == (kept.run_id,)
    finally:
        group.close()
    assert runtime_intake.client.list_workflows(workflow_ids=[gone.run_id]) == []
    # Once taken for a commit, a caller's future can no longer be cancelled.
    group = GroupIntake(runtime_intake)
    try:
        assert group.accept([gone]).accepted == (gone.run_id,)
    finally:
        group.close()
