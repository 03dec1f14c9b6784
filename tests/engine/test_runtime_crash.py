"""kill -9 of a worker in the middle of a stream of leads: nothing lost, nothing twice."""

from __future__ import annotations

import uuid
from pathlib import Path

from sqlalchemy import Engine, func, select

from leadwire.engine.runtime import LeadIn, LeadIntake
from leadwire.engine.runtime.journal import INBOX, RUNS
from tests.engine.conftest import RuntimeTenant, start_worker, wait_until
from tests.engine.test_runtime_calls import lead_payload

LEADS = 30


def _succeeded(reader: Engine, flow: str) -> int:
    with reader.connect() as conn:
        return (
            conn.scalar(
                select(func.count())
                .select_from(RUNS)
                .where(RUNS.c.flow_id == flow, RUNS.c.status == "succeeded")
            )
            or 0
        )


def test_a_worker_killed_mid_stream_loses_nothing_and_duplicates_nothing(
    runtime_db: str,
    runtime_intake: LeadIntake,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
    tmp_path: Path,
) -> None:
    flow = f"crash-{uuid.uuid4().hex[:8]}"
    proxy = runtime_tenant.proxy
    # A CRM that takes 50 ms per call keeps calls in flight when the kill lands.
    proxy.slow(flow, 0.05)
    leads: list[tuple[LeadIn, str]] = []
    for n in range(LEADS):
        lead_id = uuid.uuid4().hex[:12]
        email = f"{lead_id}@example.com"
        payload = lead_payload(f"lead:{lead_id}:{flow}:v1", runtime_tenant.location_id, email)
        # Half the leads look something up first: a checkpointed `prepare` step.
        payload["look_up"] = n % 2 == 1
        leads.append((LeadIn(lead_id, flow, 1, runtime_tenant.location_id, payload), email))

    # And one call certainly in flight: the CRM holds the third lead's note for a while.
    held = f"{leads[2][0].run_id}:note"
    proxy.hold(held, 6.0)

    worker = start_worker(tmp_path, runtime_db, runtime_tenant, name="crash-worker")
    try:
        for start in range(0, LEADS // 2, 5):
            runtime_intake.accept_leads([lead for lead, _ in leads[start : start + 5]])
        wait_until(lambda: proxy.arrived(held) and _succeeded(runtime_reader, flow) >= 3, 30)
        worker.kill9()
        at_kill = _succeeded(runtime_reader, flow)
        assert at_kill < LEADS // 2, "the kill must land mid-stream"
        # The stream goes on while no worker runs: intake does not need one.
        for start in range(LEADS // 2, LEADS, 5):
            runtime_intake.accept_leads([lead for lead, _ in leads[start : start + 5]])
        worker.start()  # the same executor id: it recovers what its last life left pending
        wait_until(lambda: _succeeded(runtime_reader, flow) == LEADS, 60)
    finally:
        worker.stop()
        proxy.slow(flow, 0)

    for _, email in leads:
        assert runtime_tenant.counts(email) == (1, 2, 1, 1), email
    with runtime_reader.connect() as conn:
        statuses = conn.execute(
            select(RUNS.c.status, func.count())
            .where(RUNS.c.flow_id == flow)
            .group_by(RUNS.c.status)
        ).all()
        inbox = conn.scalar(select(func.count()).select_from(INBOX).where(INBOX.c.flow_id == flow))
    assert dict(statuses) == {"succeeded": LEADS}
    assert inbox == 0
    # The note in flight at the kill was sent again after the restart; the CRM kept one.
    assert proxy.arrived(held) == 2


def test_two_workers_share_the_stream_and_land_each_lead_once(
    runtime_db: str,
    runtime_intake: LeadIntake,
    runtime_tenant: RuntimeTenant,
    runtime_reader: Engine,
    tmp_path: Path,
) -> None:
    flow = f"pair-{uuid.uuid4().hex[:8]}"
    runtime_tenant.proxy.slow(flow, 0.05)
    leads = []
    for n in range(16):
        lead_id = uuid.uuid4().hex[:12]
        email = f"{lead_id}@example.com"
        location = runtime_tenant.location_id
        payload = lead_payload(f"lead:{lead_id}:{flow}:v1", location, email, note=f"n{n}")
        leads.append((LeadIn(lead_id, flow, 1, location, payload), email))
    workers = [
        start_worker(tmp_path, runtime_db, runtime_tenant, name=f"pair-{i}", wait=False)
        for i in (1, 2)
    ]
    try:
        for worker in workers:
            worker.wait_ready()
        for start in range(0, len(leads), 4):
            runtime_intake.accept_leads([lead for lead, _ in leads[start : start + 4]])
        wait_until(lambda: _succeeded(runtime_reader, flow) == len(leads), 60)
    finally:
        for worker in workers:
            worker.stop()
        runtime_tenant.proxy.slow(flow, 0)
    for _, email in leads:
        assert runtime_tenant.counts(email) == (1, 2, 1, 1), email
    ran_on = {
        s.executor_id
        for s in runtime_intake.client.list_workflows(
            workflow_id_prefix=[lead.run_id for lead, _ in leads], load_input=False
        )
    }
    assert ran_on == {"pair-1", "pair-2"}
