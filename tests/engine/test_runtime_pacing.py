"""A backlog against a rate-limited CRM: the worker paces its calls, never meeting a 429.

The CRM here allows 20 requests per 2 s per location (the engine is told so, as it is told
HighLevel's 100 per 10 s by default). 25 leads of four calls arrive at once: 100 calls, five
windows' worth. Segments that find no room wait their turn, rescheduled in DBOS, and a wait is
not a failed attempt.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select

from leadwire.crm.app import create_app as create_crm_app
from leadwire.crm.store import open_store
from leadwire.engine.runtime import LeadIn, LeadIntake, RateBudget
from leadwire.engine.runtime.journal import RUNS, STEPS
from tests.conftest import make_settings
from tests.engine.conftest import (
    RuntimeTenant,
    WorkerProcess,
    crm_location,
    start_worker,
    wait_until,
)
from tests.engine.test_runtime_calls import lead_payload
from tests.engine.test_runtime_proxy import FaultProxy
from tests.servers import running

BURST, INTERVAL_S = 20, 2.0
LEADS = 25


@pytest.fixture(scope="module")
def limited_tenant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RuntimeTenant]:
    """A location on a CRM of its own that allows 20 requests per 2 s, behind the proxy."""
    settings = make_settings(
        tmp_path_factory.mktemp("limited-crm"),
        crm_rate_burst=BURST,
        crm_rate_interval_ms=int(INTERVAL_S * 1000),
    )
    store = open_store(settings)
    location_id, key = crm_location(store, "limited")
    with running(create_crm_app(settings, store=store)) as url:
        proxy = FaultProxy(url)
        with running(proxy) as proxy_url:
            proxy.url = proxy_url
            yield RuntimeTenant(store, url, proxy, location_id, key)
    store.engine.dispose()


@pytest.fixture(scope="module")
def paced_worker(
    runtime_db: str, limited_tenant: RuntimeTenant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    budget = {"budget": {"burst": BURST, "interval_s": INTERVAL_S}}
    worker = start_worker(
        tmp_path_factory.mktemp("paced"), runtime_db, limited_tenant, options=json.dumps(budget)
    )
    yield worker
    worker.stop()


def _lead(tenant: RuntimeTenant) -> LeadIn:
    lead_id = uuid.uuid4().hex[:12]
    run_id = f"lead:{lead_id}:paced:v1"
    payload = lead_payload(run_id, tenant.location_id, f"{lead_id}@example.com")
    return LeadIn(lead_id, "paced", 1, tenant.location_id, payload)


def _succeeded(reader: Engine) -> int:
    with reader.connect() as conn:
        return conn.scalar(select(func.count()).where(RUNS.c.status == "succeeded")) or 0


def test_a_backlog_is_paced_to_the_crm_budget_without_429s(
    runtime_intake: LeadIntake,
    paced_worker: WorkerProcess,
    limited_tenant: RuntimeTenant,
    runtime_reader: Engine,
) -> None:
    # The tenant (and its proxy's log) is shared by both backends' runs of this test.
    since = len(limited_tenant.proxy.log)
    leads = [_lead(limited_tenant) for _ in range(LEADS)]
    assert len(runtime_intake.accept_leads(leads).accepted) == LEADS
    wait_until(lambda: _succeeded(runtime_reader) == LEADS, 90)
    seen = limited_tenant.proxy.log[since:]
    assert [s.status for s in seen if s.status == 429] == []
    assert len(seen) == 4 * LEADS  # every call made once: none refused, none repeated
    # Never more than the budget, 20 calls in any 2 s, however the CRM counted them.
    arrivals = sorted(s.at for s in seen)
    assert (
        max(
            sum(1 for t in arrivals[i:] if t < start + INTERVAL_S)
            for i, start in enumerate(arrivals)
        )
        <= RateBudget(burst=BURST, interval_s=INTERVAL_S).calls_per_interval()
    )
    # Segments did wait their turn (the backlog was five windows long): a run that waited
    # went on in a later segment of its chain...
    segments = runtime_intake.client.list_workflows(load_input=False, load_output=False)
    assert sum(1 for s in segments if "/" in s.workflow_id) >= LEADS // 2
    # ...and no wait counted as a failed attempt of a call, or of the run.
    with runtime_reader.connect() as conn:
        step_attempts = conn.execute(select(STEPS.c.attempts).distinct()).scalars().all()
        run_attempts = conn.execute(select(RUNS.c.attempts).distinct()).scalars().all()
    assert (step_attempts, run_attempts) == ([1], [1])
