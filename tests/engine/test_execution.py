"""The flow executor against the embedded CRM over a real socket: the three templates, once.

No DBOS here: the test plays the runtime (prepare, plan, execute each step in order, carrying
bindings), so it can also make every call twice — what a crash mid-step does — and check that
nothing lands twice. The runtime's own tests cover the durable side.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from sqlalchemy import select

from leadwire.crm.models import Contact, ContactTag
from leadwire.engine.connections.model import (
    Connection,
    ConnectionSecrets,
    ConnectionStatus,
    ContactsConfig,
)
from leadwire.engine.connections.records import add_connection, list_connections
from leadwire.engine.execution import ActionStep, FlowExecutor, PlanNote
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.library import load_template, template_names
from leadwire.engine.planning import CrmCall, read_lead
from leadwire.engine.planning.samples import SAMPLE_LEAD
from leadwire.engine.runtime import StepResult
from leadwire.engine.secrets import open_keyring
from leadwire.engine.sources import FlowRoutes
from leadwire.errors import FatalError
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from tests.engine.conftest import RuntimeTenant

EMAIL = "ada.lovelace@example.com"
# When the leads of these tests were received: due dates count from it.
_NOW_MS = int(time.time() * 1000)


@pytest.fixture
def executor(app_store: AppStore, app_settings: Settings) -> Iterator[FlowExecutor]:
    flow_executor = FlowExecutor(app_store, open_keyring(app_settings))
    yield flow_executor
    flow_executor.close()


def _connect(app_store: AppStore, settings: Settings, tenant: RuntimeTenant, *, keys: bool) -> str:
    ring = open_keyring(settings)
    with app_store.sessions() as session:
        connection = add_connection(
            session,
            ring,
            name="crm",
            config=ContactsConfig(
                base_url=tenant.direct_url, location_id=tenant.location_id, idempotency_keys=keys
            ),
            values=ConnectionSecrets(api_key=tenant.key),
        )
        for name in template_names():
            row = flow_store.create_flow(session, load_template(name), ring)
            flow_store.publish(session, row.id)
        session.commit()
    return connection.id


def _run(
    executor: FlowExecutor, payload: dict[str, Any], *, twice: bool = False
) -> tuple[list[StepResult], dict[str, str]]:
    prepared = executor.prepare(payload, _NOW_MS)
    bindings: dict[str, str] = {}
    results = []
    for step in executor.plan(payload, prepared):
        result = executor.execute(step, bindings)
        if twice:
            again = executor.execute(step, bindings)
            assert again.crm_ids == result.crm_ids
        results.append(result)
        bindings.update(result.outputs)
    return results, bindings


def _lead(lead_id: str, email: str) -> dict[str, Any]:
    """The sample lead with its own id, e-mail and phone (the CRM is shared by the tests)."""
    lead = dict(SAMPLE_LEAD)
    lead.pop("context")
    lead["lead_id"] = lead_id
    # Unique enough: the CRM names a contact by its phone when the e-mail is new, so two
    # tests' leads sharing a phone (one in 100 with 555-01XX) would share a contact.
    phone = f"(212) {random.randint(230, 989)}-{random.randint(0, 9999):04d}"
    own = {"EMAIL": email, "PHONE_NUMBER": phone}
    lead["answers"] = [
        {**a, "answer": own[a["question_type"]]} if a["question_type"] in own else a
        for a in lead["answers"]
    ]
    return lead


@pytest.mark.parametrize("keys", [True, False], ids=["idempotency-keys", "look-ups"])
def test_the_three_templates_land_once_however_often_each_call_is_made(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
    executor: FlowExecutor,
    keys: bool,
) -> None:
    _connect(app_store, app_settings, runtime_tenant, keys=keys)
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    lead, _ = read_lead(_lead(str(random.randint(10**12, 10**13)), email))
    runs = FlowRoutes(app_store.read_sessions).runs_for(lead)
    assert len(runs) == 3
    contact_ids = set()
    slots: Counter[int] = Counter()  # slots taken by the task and note calls
    for run in runs:
        results, bindings = _run(executor, dict(run.payload), twice=True)
        assert "planned" in results[0].summary
        for result in results:  # the look-up, then the create, on a CRM without keys
            created = result.summary.endswith(("created task", "created note"))
            assert result.requests == (2 if created else 1)
        # ...for which a run takes two rate-budget slots.
        payload = dict(run.payload)
        for step in executor.plan(payload, executor.prepare(payload, _NOW_MS)):
            if isinstance(step, ActionStep) and isinstance(step.action, CrmCall):
                if step.action.operation_id in ("create-task", "create-note"):
                    slots[step.requests] += 1
                else:
                    assert step.requests == 1
        # The context could not be looked up (no Pinterest connection): the lead still lands.
        contact_ids.add(bindings["contact_id"])
    assert len(contact_ids) == 1
    assert slots == ({1: 2} if keys else {2: 2})
    contacts, tags, tasks, notes = runtime_tenant.counts(email)
    assert (contacts, tasks, notes) == (1, 1, 1)
    # stage:lead (new contact), pinterest-lead, budget/room tags, hot + stage:qualified.
    assert tags >= 5


def test_due_dates_count_from_when_the_lead_was_received(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
    executor: FlowExecutor,
) -> None:
    """`prepare` is pure without a Pinterest connection: preparing again, later (after a crash,
    in a replay), plans the same bodies for the same idempotency keys."""
    _connect(app_store, app_settings, runtime_tenant, keys=True)
    lead, _ = read_lead(_lead("7000000000004", "due@example.com"))
    received_ms = 1_772_467_200_000  # 2026-03-02T16:00:00Z
    for run in FlowRoutes(app_store.read_sessions).runs_for(lead):
        payload = dict(run.payload)
        assert not executor.looks_up(payload)
        first = executor.prepare(payload, received_ms)
        assert first["planned_at"] == "2026-03-02T16:00:00+00:00"
        time.sleep(0.002)
        assert executor.prepare(payload, received_ms) == first
        bodies = [
            (step.step_id, step.action)
            for step in executor.plan(payload, first)
            if isinstance(step, ActionStep)
        ]
        again = executor.plan(payload, executor.prepare(payload, received_ms))
        assert [(s.step_id, s.action) for s in again if isinstance(s, ActionStep)] == bodies
    tasks = [
        action
        for run in FlowRoutes(app_store.read_sessions).runs_for(lead)
        for step in executor.plan(
            dict(run.payload), executor.prepare(dict(run.payload), received_ms)
        )
        if isinstance(step, ActionStep) and (action := step.action).path.endswith("/tasks")
    ]
    assert tasks
    assert all(str(t.body["dueDate"]) > "2026-03-02T16:00" for t in tasks)


def test_a_stopped_plan_goes_to_the_inbox_with_its_reason(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
    executor: FlowExecutor,
) -> None:
    _connect(app_store, app_settings, runtime_tenant, keys=True)
    lead, _ = read_lead(_lead("7000000000002", "ok@example.com"))
    run = FlowRoutes(app_store.read_sessions).runs_for(lead)[0]
    payload = dict(run.payload)
    payload["flow_version"] = 99  # no such version: planning cannot even start
    with pytest.raises(Exception, match="99"):
        executor.plan(payload, executor.prepare(payload, _NOW_MS))
    broken = {**payload, "lead": {"lead_id": "x"}}
    with pytest.raises(FatalError, match="payload"):
        executor.plan(broken, {"planned_at": "2026-01-01T00:00:00+00:00"})


def test_steps_describe_calls_without_personal_data(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
    executor: FlowExecutor,
) -> None:
    _connect(app_store, app_settings, runtime_tenant, keys=True)
    lead, _ = read_lead(_lead("7000000000003", "secret.person@example.com"))
    for run in FlowRoutes(app_store.read_sessions).runs_for(lead):
        payload: Mapping[str, Any] = run.payload
        steps = executor.plan(dict(payload), executor.prepare(dict(payload), _NOW_MS))
        assert isinstance(steps[0], PlanNote)
        for step in steps:
            text = step.describe()
            assert "secret.person" not in text
            assert "Lovelace" not in text
            if isinstance(step, ActionStep):
                assert step.step_id == step.action.id


def test_a_crm_that_refuses_the_key_is_fatal_and_says_so(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
) -> None:
    ring = open_keyring(app_settings)
    with app_store.sessions() as session:
        add_connection(
            session,
            ring,
            name="crm",
            config=ContactsConfig(
                base_url=runtime_tenant.direct_url, location_id=runtime_tenant.location_id
            ),
            values=ConnectionSecrets(api_key="wrong-key"),
        )
        row = flow_store.create_flow(session, load_template("new-lead-contact"), ring)
        flow_store.publish(session, row.id)
        session.commit()
    lead, _ = read_lead(_lead("7000000000004", "nokey@example.com"))
    run = FlowRoutes(app_store.read_sessions).runs_for(lead)[0]
    executor = FlowExecutor(app_store, ring)
    try:
        with pytest.raises(FatalError) as caught:
            _run(executor, dict(run.payload))
    finally:
        executor.close()
    assert "wrong-key" not in str(caught.value)
    assert "401" in str(caught.value) or "auth" in str(caught.value).lower()
    # The connection says it is failing, why and since when (`leadwire connections list`).
    (connection,) = [c for c in list_connections_of(app_store) if c.name == "crm"]
    assert connection.status is ConnectionStatus.FAILING
    assert connection.failing_since is not None
    assert connection.last_error
    assert "wrong-key" not in connection.last_error


def test_the_initial_stage_is_set_whichever_flow_creates_the_contact(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
    executor: FlowExecutor,
) -> None:
    # The flows of one lead run concurrently: here the tags flow creates the contact first,
    # so the new-lead flow's upsert answers "new": false — the stage must still be set.
    _connect(app_store, app_settings, runtime_tenant, keys=True)
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    lead, _ = read_lead(_lead(str(random.randint(10**12, 10**13)), email))
    runs = FlowRoutes(app_store.read_sessions).runs_for(lead)
    stage_runs = []
    for run in reversed(runs):
        results, _bindings = _run(executor, dict(run.payload))
        stage_runs += [r.summary for r in results if "created for this lead" in r.summary]
    assert stage_runs, "a later flow's upsert saw the contact this lead created"
    with runtime_tenant.store.read_sessions() as session:
        tags = set(
            session.scalars(
                select(ContactTag.tag)
                .join(Contact, Contact.id == ContactTag.contact_id)
                .where(Contact.email_lower == email)
            )
        )
    assert "stage:lead" in tags


def test_a_contact_that_was_there_before_the_lead_keeps_its_stage(
    app_store: AppStore,
    app_settings: Settings,
    runtime_tenant: RuntimeTenant,
    executor: FlowExecutor,
) -> None:
    _connect(app_store, app_settings, runtime_tenant, keys=True)
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    data = _lead(str(random.randint(10**12, 10**13)), email)
    first, _ = read_lead(data)
    for run in FlowRoutes(app_store.read_sessions).runs_for(first):
        _run(executor, dict(run.payload))
    # The same person, a later lead: the contact existed before it, so no initial stage again.
    later = read_lead(
        {
            **data,
            "lead_id": str(random.randint(10**12, 10**13)),
            "created_time": "2099-01-01T00:00:00Z",
        }
    )[0]
    for run in FlowRoutes(app_store.read_sessions).runs_for(later):
        results, bindings = _run(executor, dict(run.payload))
        assert bindings["contact_new"] == "false"
        assert not any("created" in r.summary and "contact" in r.summary for r in results)


def list_connections_of(app_store: AppStore) -> list[Connection]:
    with app_store.read_sessions() as session:
        return list_connections(session)
