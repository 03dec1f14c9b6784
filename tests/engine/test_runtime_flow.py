"""The runtime end to end: leads accepted here, run by a worker process against the real CRM."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine, select

from leadwire.engine.runtime import LeadIn, LeadIntake
from leadwire.engine.runtime.jobs import LeadJob, Progress
from leadwire.engine.runtime.journal import RUNS, STEPS, insert_queued_runs
from leadwire.engine.runtime.stranded import Sweeper, sweep_stranded
from leadwire.engine.runtime.workflow import WORKFLOW_NAME
from tests.engine.conftest import RuntimeTenant, WorkerProcess, wait_until
from tests.engine.test_runtime_calls import HttpCall, lead_payload

FLOW = "welcome"


def _lead(
    tenant: RuntimeTenant, *, version: int = 1, note: str = "From Pinterest", look_up: bool = False
) -> tuple[LeadIn, str]:
    lead_id = uuid.uuid4().hex[:12]
    email = f"{lead_id}@example.com"
    run_id = f"lead:{lead_id}:{FLOW}:v{version}"
    payload = lead_payload(run_id, tenant.location_id, email, note=note)
    if look_up:  # the executor's `prepare` looks something up for this lead
        payload["look_up"] = True
    return LeadIn(lead_id, FLOW, version, tenant.location_id, payload), email


def _dbos_steps(intake: LeadIntake, workflow_id: str) -> list[str]:
    """The workflow's checkpointed steps by name, a run of calls steps once ("crm-calls")."""
    names: list[str] = []
    for step in intake.client.list_workflow_steps(workflow_id):
        if not names or names[-1] != step["function_name"]:
            names.append(step["function_name"])
    return names


def _status(reader: Engine, run_id: str) -> str | None:
    with reader.connect() as conn:
        return conn.scalar(select(RUNS.c.status).where(RUNS.c.run_id == run_id))


def _wait_status(reader: Engine, run_id: str, status: str, timeout_s: float = 20) -> None:
    wait_until(lambda: _status(reader, run_id) == status, timeout_s)


def _assert_ended_and_next_delayed(intake: LeadIntake, run_id: str) -> None:
    """The run's first segment ends (just after it recorded its status and enqueued the next
    segment), and the next one waits in the database, DELAYED, until its time comes."""

    def segments() -> set[tuple[str, str]]:
        found = intake.client.list_workflows(
            workflow_id_prefix=run_id, load_input=False, load_output=False
        )
        return {(s.workflow_id, s.status) for s in found}

    wait_until(lambda: (run_id, "SUCCESS") in segments(), 5, interval_s=0.01)
    assert segments() == {(run_id, "SUCCESS"), (f"{run_id}/1", "DELAYED")}


def test_a_duplicate_delivery_runs_once(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    lead, email = _lead(runtime_tenant)
    first = runtime_intake.accept_leads([lead, lead])
    assert first.accepted == (lead.run_id,)
    assert first.duplicates == (lead.run_id,)
    again = runtime_intake.accept_leads([lead])
    assert (again.accepted, again.duplicates) == ((), (lead.run_id,))
    _wait_status(runtime_reader, lead.run_id, "succeeded")
    assert runtime_tenant.counts(email) == (1, 2, 1, 1)
    assert runtime_intake.accept_leads([lead]).duplicates == (lead.run_id,)
    # Calls are paced by the worker's throttle; DBOS's limit on workflow starts never binds.
    queue = runtime_intake.client.retrieve_queue("leadwire-crm")
    assert queue is not None
    assert queue.partition_limiter == {"limit": 1000, "period": 1.0}
    with runtime_reader.connect() as conn:
        steps = conn.execute(
            select(STEPS.c.step_id, STEPS.c.status, STEPS.c.attempts, STEPS.c.crm_ids)
            .where(STEPS.c.run_id == lead.run_id)
            .order_by(STEPS.c.position)
        ).all()
    assert [(s.step_id, s.status, s.attempts) for s in steps] == [
        ("upsert", "ok", 1),
        ("tags", "ok", 1),
        ("task", "ok", 1),
        ("note", "ok", 1),
    ]
    assert set(steps[0].crm_ids) == {"contact_id"}


def _statuses(tenant: RuntimeTenant, key_part: str) -> list[int]:
    return [s.status for s in tenant.proxy.seen(key_part)]


def test_retryable_failures_are_waited_out_and_land_once(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    lead, email = _lead(runtime_tenant)
    proxy = runtime_tenant.proxy
    proxy.fail(f"{lead.run_id}:upsert", (429, {"Retry-After": "1"}), (503, {}))
    proxy.fail(f"{lead.run_id}:note", (500, {}))
    runtime_intake.accept_leads([lead])
    _wait_status(runtime_reader, lead.run_id, "retrying")
    # Waiting holds no worker thread and no queue slot (Retry-After: 1 s).
    _assert_ended_and_next_delayed(runtime_intake, lead.run_id)
    _wait_status(runtime_reader, lead.run_id, "succeeded")
    assert runtime_tenant.counts(email) == (1, 2, 1, 1)
    upserts = proxy.seen(f"{lead.run_id}:upsert")
    assert [s.status for s in upserts] == [429, 503, 200]
    assert upserts[1].at - upserts[0].at >= 1.0  # Retry-After honoured
    # A retry resumes at the failed call: the calls before it are not made again.
    assert _statuses(runtime_tenant, f"{lead.run_id}:tags") == [201]
    assert _statuses(runtime_tenant, f"{lead.run_id}:task") == [201]
    assert _statuses(runtime_tenant, f"{lead.run_id}:note") == [500, 201]
    with runtime_reader.connect() as conn:
        attempts = dict(
            conn.execute(
                select(STEPS.c.step_id, STEPS.c.attempts).where(STEPS.c.run_id == lead.run_id)
            ).all()
        )
        run = conn.execute(select(RUNS).where(RUNS.c.run_id == lead.run_id)).mappings().one()
    assert attempts == {"upsert": 3, "tags": 1, "task": 1, "note": 2}
    assert run["attempts"] == 4  # segments: two upsert retries, one note retry
    assert run["error_type"] is None
    assert run["finished_at"] is not None


def test_prepare_is_a_checkpoint_only_when_it_looks_something_up(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    plain, plain_email = _lead(runtime_tenant)
    looking, looking_email = _lead(runtime_tenant, look_up=True)
    runtime_intake.accept_leads([plain, looking])
    # A run the previous workflow version started (its progress has no version) keeps that
    # version's order of checkpoints: `prepare` first, always.
    older, older_email = _lead(runtime_tenant)
    job = LeadJob(
        older.run_id, older.lead_id, FLOW, 1, runtime_tenant.location_id, older.payload, 1
    )
    runtime_intake.client.enqueue(
        {
            "workflow_name": WORKFLOW_NAME,
            "queue_name": "leadwire-crm",
            "workflow_id": older.run_id,
            "queue_partition_key": runtime_tenant.location_id,
        },
        job.to_wire(),
        {k: v for k, v in Progress(chain=older.run_id).to_wire().items() if k != "version"},
    )
    for lead, email in ((plain, plain_email), (looking, looking_email), (older, older_email)):
        _wait_status(runtime_reader, lead.run_id, "succeeded")
        assert runtime_tenant.counts(email) == (1, 2, 1, 1)
    assert _dbos_steps(runtime_intake, plain.run_id) == ["crm-calls"]
    assert _dbos_steps(runtime_intake, looking.run_id) == ["prepare", "crm-calls"]
    assert _dbos_steps(runtime_intake, older.run_id) == ["prepare", "crm-calls"]


def _dbos_status(intake: LeadIntake, workflow_id: str) -> str | None:
    found = intake.client.list_workflows(
        workflow_ids=[workflow_id], load_input=False, load_output=False
    )
    return found[0].status if found else None


def test_a_segment_whose_code_fails_is_swept_into_the_inbox(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    lead, _email = _lead(runtime_tenant)
    job = LeadJob(lead.run_id, lead.lead_id, FLOW, 1, runtime_tenant.location_id, lead.payload, 1)
    # A progress the workflow's code cannot read: it raises before any step, and DBOS ends
    # the workflow in ERROR, which no segment end records.
    broken = {**Progress(chain=lead.run_id).to_wire(), "bindings": "not an object"}
    with runtime_intake.engine.begin() as conn:  # as intake does, with the workflow
        insert_queued_runs(conn, [job])
        runtime_intake.client.enqueue_in_transaction(
            conn,
            {
                "workflow_name": WORKFLOW_NAME,
                "queue_name": "leadwire-crm",
                "workflow_id": lead.run_id,
                "queue_partition_key": runtime_tenant.location_id,
            },
            job.to_wire(),
            broken,
        )
    wait_until(lambda: _dbos_status(runtime_intake, lead.run_id) == "ERROR", 20)
    assert _status(runtime_reader, lead.run_id) == "queued"  # and so it would stay

    def sweep() -> list[str]:
        return sweep_stranded(runtime_intake.engine, runtime_intake.client)

    # A worker's housekeeping thread sweeps (here every 0.1 s, for the test).
    inbox = runtime_intake.inbox()
    stop = threading.Event()
    sweeper = Sweeper(runtime_intake.engine, runtime_intake.client)
    thread = threading.Thread(target=sweeper.run_forever, args=(stop, 0.1))
    thread.start()
    try:
        wait_until(lambda: any(i.run_id == lead.run_id for i in inbox.items()), 10)
    finally:
        stop.set()
        thread.join(timeout=10)
    assert lead.run_id not in sweep()  # once per stranded segment
    (item,) = [i for i in inbox.items() if i.run_id == lead.run_id]
    assert (item.failed_step, item.error_type, item.replays) == ("workflow", "ValueError", 0)
    assert item.error_message.startswith("the segment's code failed: ")
    assert _status(runtime_reader, lead.run_id) == "needs_attention"

    # Its replay fails the same way: the sweep reopens the item for the fork.
    fork_id = inbox.replay(lead.run_id)
    assert fork_id is not None
    wait_until(lambda: _dbos_status(runtime_intake, fork_id) == "ERROR", 20)
    assert lead.run_id in sweep()
    (item,) = [i for i in inbox.items() if i.run_id == lead.run_id]
    assert item.replays == 1
    # A dismissed item stays closed.
    assert inbox.dismiss(lead.run_id)
    assert lead.run_id not in sweep()
    assert _status(runtime_reader, lead.run_id) == "dismissed"


@pytest.mark.parametrize("look_up", [False, True], ids=["pure-prepare", "look-up"])
def test_a_fatal_error_goes_to_the_inbox_and_a_replay_lands_once(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
    look_up: bool,
) -> None:
    lead, email = _lead(runtime_tenant, look_up=look_up)
    runtime_tenant.proxy.fail(f"{lead.run_id}:note", (400, {}))
    runtime_intake.accept_leads([lead])
    _wait_status(runtime_reader, lead.run_id, "needs_attention")
    inbox = runtime_intake.inbox()
    (item,) = [i for i in inbox.items() if i.run_id == lead.run_id]
    assert (item.failed_step, item.error_type, item.attempts) == ("note", "BadRequestError", 1)
    assert "answered 400" in item.error_message
    assert runtime_tenant.counts(email) == (1, 2, 1, 0)

    fork_id = inbox.replay(lead.run_id)
    assert fork_id == f"{lead.run_id}/replay1"
    assert inbox.replay(lead.run_id) is None  # no longer open
    _wait_status(runtime_reader, lead.run_id, "succeeded")
    assert runtime_tenant.counts(email) == (1, 2, 1, 1)
    # The replay started at the failed step.
    assert _statuses(runtime_tenant, f"{lead.run_id}:upsert") == [200]
    assert _statuses(runtime_tenant, f"{lead.run_id}:note") == [400, 201]
    assert [i.status.value for i in inbox.items(status=None) if i.run_id == lead.run_id] == [
        "replayed"
    ]
    # The fork kept the look-up the failed segment had checkpointed before the failed step.
    prepared = ["prepare"] if look_up else []
    assert _dbos_steps(runtime_intake, lead.run_id) == [*prepared, "crm-calls"]
    assert _dbos_steps(runtime_intake, fork_id) == [*prepared, "crm-calls"]


def test_exhausted_retries_go_to_the_inbox_and_replay_with_a_fresh_budget(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    lead, email = _lead(runtime_tenant)
    key = f"{lead.run_id}:task"
    runtime_tenant.proxy.fail(key, (503, {}), sticky=True)
    runtime_intake.accept_leads([lead])
    _wait_status(runtime_reader, lead.run_id, "needs_attention")
    inbox = runtime_intake.inbox()
    (item,) = [i for i in inbox.items() if i.run_id == lead.run_id]
    assert item.failed_step == "task"
    assert item.error_type == "UpstreamUnavailableError"
    assert item.error_message.startswith(f"gave up after {item.attempts} attempts")
    assert item.attempts >= 2
    assert item.last_failed_at > item.first_failed_at
    assert runtime_tenant.counts(email) == (1, 2, 0, 0)
    with runtime_reader.connect() as conn:
        task_step = conn.execute(
            select(STEPS.c.status, STEPS.c.attempts).where(
                STEPS.c.run_id == lead.run_id, STEPS.c.step_id == "task"
            )
        ).one()
    assert tuple(task_step) == ("failed", item.attempts)

    runtime_tenant.proxy.clear(key)
    assert inbox.replay(lead.run_id) is not None
    _wait_status(runtime_reader, lead.run_id, "succeeded")
    assert runtime_tenant.counts(email) == (1, 2, 1, 1)


def test_a_bulk_replay_replays_every_open_item_of_a_flow(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    flow = f"bulk-{uuid.uuid4().hex[:6]}"
    leads = []
    for _ in range(3):
        lead_id = uuid.uuid4().hex[:12]
        run_id = f"lead:{lead_id}:{flow}:v1"
        email = f"{lead_id}@example.com"
        payload = lead_payload(run_id, runtime_tenant.location_id, email)
        leads.append((LeadIn(lead_id, flow, 1, runtime_tenant.location_id, payload), email))
        runtime_tenant.proxy.fail(f"{run_id}:tags", (422, {}))
    runtime_intake.accept_leads([lead for lead, _ in leads])
    for lead, _ in leads:
        _wait_status(runtime_reader, lead.run_id, "needs_attention")
    inbox = runtime_intake.inbox()
    assert inbox.dismiss(leads[2][0].run_id)
    assert not inbox.dismiss(leads[2][0].run_id)
    forked = inbox.replay_all(flow_id=flow)
    assert sorted(forked) == sorted(f"{lead.run_id}/replay1" for lead, _ in leads[:2])
    for lead, email in leads[:2]:
        _wait_status(runtime_reader, lead.run_id, "succeeded")
        assert runtime_tenant.counts(email) == (1, 2, 1, 1)
    assert _status(runtime_reader, leads[2][0].run_id) == "dismissed"
    assert inbox.items(flow_id=flow) == []


def test_a_lead_reruns_through_a_newer_flow_version(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    v1, email = _lead(runtime_tenant)
    runtime_intake.accept_leads([v1])
    _wait_status(runtime_reader, v1.run_id, "succeeded")
    run_v2 = f"lead:{v1.lead_id}:{FLOW}:v2"
    payload = lead_payload(run_v2, runtime_tenant.location_id, email, note="Version 2 note")
    v2 = LeadIn(v1.lead_id, FLOW, 2, runtime_tenant.location_id, payload)
    assert runtime_intake.accept_leads([v2]).accepted == (run_v2,)
    _wait_status(runtime_reader, run_v2, "succeeded")
    # The same contact (an upsert), and the new version's own task and note.
    assert runtime_tenant.counts(email) == (1, 2, 2, 2)
    assert runtime_intake.accept_leads([v2]).duplicates == (run_v2,)


def test_a_delay_step_pauses_the_run_without_holding_a_worker(
    runtime_intake: LeadIntake,
    runtime_worker: WorkerProcess,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    lead, email = _lead(runtime_tenant)
    upsert, _tags, _task, note = lead.payload["calls"]
    pause = HttpCall("pause", "WAIT", "-", {"seconds": 1}).to_wire()
    delayed = LeadIn(lead.lead_id, FLOW, 1, lead.location_id, {"calls": [upsert, pause, note]})
    runtime_intake.accept_leads([delayed])
    _wait_status(runtime_reader, lead.run_id, "waiting")
    _assert_ended_and_next_delayed(runtime_intake, lead.run_id)
    _wait_status(runtime_reader, lead.run_id, "succeeded")
    assert runtime_tenant.counts(email) == (1, 0, 0, 1)
    (upserted,) = runtime_tenant.proxy.seen(f"{lead.run_id}:upsert")
    (noted,) = runtime_tenant.proxy.seen(f"{lead.run_id}:note")
    assert noted.at - upserted.at >= 1.0
    with runtime_reader.connect() as conn:
        steps = conn.execute(
            select(STEPS.c.step_id, STEPS.c.status)
            .where(STEPS.c.run_id == lead.run_id)
            .order_by(STEPS.c.position)
        ).all()
    assert [tuple(s) for s in steps] == [("upsert", "ok"), ("pause", "ok"), ("note", "ok")]
