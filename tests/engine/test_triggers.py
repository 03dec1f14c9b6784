"""CRM event, schedule and manual triggers: due times, plans, decoding, the scheduler, re-runs.

The scheduler and the manual runs record through the real intake on both backends; runs no
lead started are executed by the real `FlowExecutor` against the embedded CRM and a signed
webhook receiver over real sockets (the runtime is played here, as in test_execution.py; the
worker process is exercised in test_triggers_worker.py).
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from leadwire.engine.connections.model import ConnectionSecrets, ContactsConfig
from leadwire.engine.connections.records import add_connection
from leadwire.engine.execution import FlowExecutor
from leadwire.engine.expressions.values import iso_datetime
from leadwire.engine.flows import FlowDocument, FlowValidationError, FlowVersion, load_flow
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.signing import verify_signature
from leadwire.engine.flows.triggers import ScheduleTrigger
from leadwire.engine.planning import event_names, plan_for, read_lead, schedule_names
from leadwire.engine.planning.samples import SAMPLE_LEAD
from leadwire.engine.runtime import LeadIntake, RuntimeOptions, StepResult
from leadwire.engine.secrets import KeyRing, open_keyring
from leadwire.engine.sources.crm_events import REPLAY_WINDOW_S, decode_event
from leadwire.engine.sources.due_times import CronLine, due_text, latest_due
from leadwire.engine.sources.manual import (
    RunRequestError,
    read_run_payload,
    start_manual_run,
    start_rerun,
)
from leadwire.engine.sources.schedule import Scheduler
from leadwire.errors import DecodeError
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from leadwire.store.models.base import AppBase
from leadwire.store.models.flows import FlowVersionRow
from leadwire.store.models.runs import RunRow
from leadwire.store.models.triggers import ScheduleStateRow
from tests.engine.conftest import RuntimeTenant
from tests.receivers import receiving

UTC_NOON = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # a Monday

# --- helpers shared with test_triggers_worker.py and tests/web/test_crm_events.py ----------

NOTE_FLOW = """\
format: 1
name: {name}
trigger: {{type: crm_event, events: [TaskComplete]}}
steps:
  - id: done-note
    type: add_note
    body: "Task done: {{{{ event.title }}}} ({{{{ event.type }}}})"
"""


def note_flow(name: str) -> FlowDocument:
    """Return the flow "on TaskComplete, add a note to the event's contact"."""
    return load_flow(NOTE_FLOW.format(name=name))


def publish(
    store: AppStore, ring: KeyRing, document: FlowDocument, flow_id: str | None = None
) -> str:
    """Create (or save the draft of) a flow and publish it; return its id."""
    with store.sessions() as session:
        if flow_id is None:
            flow_id = flow_store.create_flow(session, document, ring).id
        else:
            flow_store.save_draft(session, flow_id, document)
        flow_store.publish(session, flow_id)
        session.commit()
    return flow_id


def connect_crm(store: AppStore, ring: KeyRing, url: str, location_id: str, key: str) -> str:
    """Add a CRM connection honouring idempotency keys (the embedded CRM); return its id."""
    with store.sessions() as session:
        connection = add_connection(
            session,
            ring,
            name=f"crm-{uuid.uuid4().hex[:6]}",
            config=ContactsConfig(base_url=url, location_id=location_id, idempotency_keys=True),
            values=ConnectionSecrets(api_key=key),
        )
        session.commit()
    return connection.id


def crm_client(url: str, key: str) -> httpx.Client:
    """A client of the embedded CRM's Contacts API."""
    headers = {"Authorization": f"Bearer {key}", "Version": "2021-07-28"}
    return httpx.Client(base_url=url, headers=headers, timeout=10)


def complete_a_task(client: httpx.Client, location_id: str, title: str) -> tuple[str, str]:
    """Make a contact with a task, then complete it (the CRM sends TaskComplete)."""
    email = f"{uuid.uuid4().hex[:12]}@example.com"
    upsert = client.post("/contacts/upsert", json={"locationId": location_id, "email": email})
    contact_id = str(upsert.raise_for_status().json()["contact"]["id"])
    due = (datetime.now(UTC) + timedelta(days=1)).isoformat().replace("+00:00", "Z")
    task = client.post(
        f"/contacts/{contact_id}/tasks", json={"title": title, "dueDate": due, "completed": False}
    )
    task_id = str(task.raise_for_status().json()["task"]["id"])
    done = client.put(f"/contacts/{contact_id}/tasks/{task_id}/completed", json={"completed": True})
    done.raise_for_status()
    return contact_id, task_id


def notes_of(client: httpx.Client, contact_id: str) -> list[str]:
    """Return the bodies of a contact's notes."""
    answer = client.get(f"/contacts/{contact_id}/notes").raise_for_status().json()
    return [str(note["body"]) for note in answer["notes"]]


# When the runs of these tests were received: due dates count from it.
_NOW_MS = int(time.time() * 1000)


def run_payload_of(intake: LeadIntake, run_id: str) -> dict[str, Any]:
    """Return the payload a recorded run carries (its workflow's durable input)."""
    payload = read_run_payload(intake.client, run_id)
    assert payload is not None
    return payload


def play(executor: FlowExecutor, payload: dict[str, Any]) -> list[tuple[str, StepResult]]:
    """Run a payload's steps in order as the runtime does, carrying bindings."""
    prepared = executor.prepare(payload, _NOW_MS)
    bindings: dict[str, str] = {}
    done = []
    for step in executor.plan(payload, prepared):
        result = executor.execute(step, bindings)
        bindings.update(result.outputs)
        done.append((step.step_id, result))
    return done


# --- due times ------------------------------------------------------------------------------


def _cron(line: str) -> ScheduleTrigger:
    return ScheduleTrigger(type="schedule", cron=line)


def test_cron_is_read_in_the_flow_zone() -> None:
    weekdays_9am = _cron("0 9 * * MON-FRI")
    after = UTC_NOON - timedelta(days=10)
    # 09:00 in New York on Monday 2 March is 14:00 UTC.
    assert latest_due(
        weekdays_9am, "America/New_York", after=after, until=UTC_NOON + timedelta(hours=3)
    ) == datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    # Before it, the latest is Friday's.
    assert latest_due(weekdays_9am, "America/New_York", after=after, until=UTC_NOON) == datetime(
        2026, 2, 27, 14, 0, tzinfo=UTC
    )
    # Nothing in the window: None.
    assert (
        latest_due(weekdays_9am, "UTC", after=UTC_NOON, until=UTC_NOON + timedelta(hours=1)) is None
    )


def test_cron_fields_steps_names_and_either_day() -> None:
    line = CronLine.parse("5/20 1-3 1,15 JAN-MAR sun")
    assert line.minutes == {5, 25, 45}
    assert line.hours == {1, 2, 3}
    assert line.months == {1, 2, 3}
    assert line.weekdays == {0}
    # Both day fields restricted: the 1st, the 15th, or a Sunday.
    assert line.is_due_on(datetime(2026, 3, 1).date())  # a Sunday and the 1st
    assert line.is_due_on(datetime(2026, 3, 8).date())  # a Sunday
    assert line.is_due_on(datetime(2026, 1, 15).date())  # a Thursday, the 15th
    assert not line.is_due_on(datetime(2026, 3, 9).date())
    assert not line.is_due_on(datetime(2026, 4, 5).date())  # a Sunday, but April
    assert CronLine.parse("0 0 * * 7").weekdays == {0}  # 7 is Sunday too
    assert CronLine.parse("*/15 * * * *").minutes == {0, 15, 30, 45}


def test_a_clock_change_neither_skips_nor_repeats_a_due_time() -> None:
    # New York: 2026-03-08 02:30 does not exist; 2026-11-01 01:30 happens twice.
    spring = _cron("30 2 * * *")
    due = latest_due(
        spring,
        "America/New_York",
        after=datetime(2026, 3, 8, 0, 0, tzinfo=UTC),
        until=datetime(2026, 3, 8, 12, 0, tzinfo=UTC),
    )
    assert due == datetime(2026, 3, 8, 7, 30, tzinfo=UTC)
    autumn = _cron("30 1 * * *")
    first = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 01:30 EDT
    end = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    assert (
        latest_due(autumn, "America/New_York", after=first - timedelta(hours=1), until=end) == first
    )
    assert latest_due(autumn, "America/New_York", after=first, until=end) is None


def test_every_is_due_at_multiples_of_the_interval_since_the_epoch() -> None:
    every = ScheduleTrigger(type="schedule", every="15m")
    until = UTC_NOON + timedelta(minutes=7, seconds=3)
    assert latest_due(every, "UTC", after=UTC_NOON - timedelta(days=3), until=until) == UTC_NOON
    assert latest_due(every, "UTC", after=UTC_NOON, until=until) is None
    daily = ScheduleTrigger(type="schedule", every="1d")
    assert latest_due(daily, "Asia/Tokyo", after=UTC_NOON - timedelta(days=2), until=UTC_NOON) == (
        UTC_NOON.replace(hour=0)
    )
    assert due_text(UTC_NOON) == "2026-03-02T12:00:00Z"


_FIELD = st.one_of(
    st.just("*"),
    st.builds(lambda a, n: f"*/{n}" if a else "*", st.booleans(), st.integers(2, 20)),
)


@settings(max_examples=60, deadline=None)
@given(
    minute=st.one_of(_FIELD, st.integers(0, 59).map(str), st.just("0,30")),
    hour=st.one_of(_FIELD, st.integers(0, 23).map(str), st.just("9-17")),
    day=st.one_of(st.just("*"), st.integers(1, 28).map(str)),
    weekday=st.one_of(st.just("*"), st.just("MON-FRI"), st.integers(0, 6).map(str)),
    zone=st.sampled_from(["UTC", "America/New_York", "Asia/Kolkata"]),
    offset_min=st.integers(0, 3 * 24 * 60),
)
def test_the_latest_due_time_is_what_a_minute_by_minute_scan_finds(
    minute: str, hour: str, day: str, weekday: str, zone: str, offset_min: int
) -> None:
    from zoneinfo import ZoneInfo

    line = f"{minute} {hour} {day} * {weekday}"
    parsed = CronLine.parse(line)
    until = UTC_NOON + timedelta(minutes=offset_min, seconds=17)
    after = until - timedelta(days=2)
    expected = None
    moment = until.replace(second=0)
    while moment > after:
        local = moment.astimezone(ZoneInfo(zone))
        if (
            parsed.is_due_on(local.date())
            and local.hour in parsed.hours
            and local.minute in parsed.minutes
        ):
            expected = moment
            break
        moment -= timedelta(minutes=1)
    assert latest_due(_cron(line), zone, after=after, until=until) == expected


# --- plans of runs no lead started -------------------------------------------------------------

EVENT = {
    "type": "TaskComplete",
    "event_id": "wh_1",
    "location_id": "loc-1",
    "contact_id": "ct_42",
    "body": {
        "type": "TaskComplete",
        "locationId": "loc-1",
        "id": "tk_7",
        "contactId": "ct_42",
        "title": "Call back",
        "webhookId": "wh_1",
    },
}


def _version(text: str) -> FlowVersion:
    return FlowVersion("flow_t", 3, load_flow(text))


def test_an_event_plan_reads_the_event_and_acts_on_its_contact() -> None:
    version = _version(NOTE_FLOW.format(name="n"))
    result = plan_for(version, "crm:wh_1", event_names(EVENT), now=UTC_NOON, location_id="loc-1")
    (call,) = result.calls
    assert (call.operation_id, call.path) == ("create-note", "/contacts/{contact_id}/notes")
    assert call.body == {"body": "Task done: Call back (TaskComplete)"}
    assert result.lead_id == "crm:wh_1"
    other = plan_for(version, "crm:wh_2", event_names(EVENT), now=UTC_NOON, location_id="loc-1")
    assert other.calls[0].idempotency_key != call.idempotency_key


def test_reading_a_lead_in_an_event_run_is_a_mapping_problem_not_a_crash() -> None:
    version = _version(
        """\
name: x
trigger: {type: crm_event, events: [TaskComplete]}
steps:
  - {id: tag, type: add_tags, tags: ["{{ answers.budget }}", "done"]}
  - {id: hook, type: webhook, url: "https://example.org/h"}
  - id: stop-here
    type: add_note
    on_error: stop
    body: "{{ lead.id }}"
"""
    )
    result = plan_for(version, "crm:wh_1", event_names(EVENT), now=UTC_NOON, location_id="l")
    assert result.outcome.value == "stopped"
    assert [(p.step_id, p.field, p.stopped) for p in result.problems] == [
        ("tag", "tags[0]", False),
        ("stop-here", "body", True),
    ]
    assert "there is no name 'answers'" in result.problems[0].message
    tags, hook = result.actions
    assert tags.body == {"tags": ["done"]}  # type: ignore[union-attr]
    # The standard payload of a webhook step carries the event and the contact, no lead.
    assert set(hook.body) == {"flow", "event", "contact_id"}  # type: ignore[arg-type, union-attr]
    assert hook.contact_id_at == ("/contact_id",)


def test_a_schedule_plan_has_no_contact_and_reads_its_due_time() -> None:
    version = _version(
        """\
name: s
trigger: {type: schedule, every: 1h}
steps:
  - id: ping
    type: webhook
    url: https://example.org/ping
    body: {due: "{{ schedule.due_at | date('iso') }}", who: "{{ answers.email }}"}
  - id: list
    type: contacts_operation
    operation: get-contacts
    query: {query: "{{ const.q | default('acme') }}"}
"""
    )
    result = plan_for(
        version,
        "schedule:2026-03-02T12:00:00Z",
        schedule_names(UTC_NOON),
        now=UTC_NOON,
        location_id="loc",
    )
    ping, listing = result.actions
    assert ping.body == {"due": "2026-03-02T12:00:00.000Z", "who": None}  # type: ignore[union-attr]
    assert [p.field for p in result.problems] == ["body/who"]
    assert listing.query == {"query": "acme", "locationId": "loc"}  # type: ignore[union-attr]


def test_flows_may_read_their_trigger_s_names_only() -> None:
    load_flow(NOTE_FLOW.format(name="ok"))
    with pytest.raises(FlowValidationError, match="there is no name 'event'"):
        load_flow(
            """\
name: p
trigger: {type: pinterest_lead}
steps:
  - {id: c, type: upsert_contact, fields: {email: "{{ event.email }}"}}
"""
        )
    with pytest.raises(FlowValidationError, match="needs the contact"):
        load_flow(
            """\
name: s
trigger: {type: schedule, cron: "0 9 * * *"}
steps:
  - {id: n, type: add_note, body: "{{ schedule.due_at }}"}
"""
        )


# --- decoding events ----------------------------------------------------------------------------


def _body(**fields: Any) -> bytes:
    base: dict[str, Any] = {
        "type": "TaskComplete",
        "locationId": "loc-1",
        "id": "tk_1",
        "contactId": "ct_1",
        "title": "Call",
        "timestamp": UTC_NOON.isoformat(),
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None}).encode()


def test_an_event_is_known_by_its_webhook_id_or_else_by_its_body_without_timestamp() -> None:
    event = decode_event(_body(webhookId="wh_9"), now=UTC_NOON)
    assert (event.type, event.event_id, event.location_id, event.contact_id) == (
        "TaskComplete",
        "wh_9",
        "loc-1",
        "ct_1",
    )
    assert event.subject == "crm:wh_9"
    first = decode_event(_body(), now=UTC_NOON)
    later = UTC_NOON + timedelta(seconds=40)
    again = decode_event(_body(timestamp=later.isoformat()), now=later)
    assert first.event_id == again.event_id
    assert first.event_id.startswith("sha256-")
    assert decode_event(_body(title="Other"), now=UTC_NOON).event_id != first.event_id
    odd = decode_event(_body(webhookId="has/slash and spaces"), now=UTC_NOON)
    assert odd.event_id.startswith("sha256-")
    contact = decode_event(
        _body(type="ContactCreate", contactId=None, id="ct_9", email=" A@B.org "), now=UTC_NOON
    )
    assert (contact.contact_id, contact.email) == ("ct_9", "a@b.org")
    unknown = decode_event(_body(type="OpportunityCreate", contactId=None), now=UTC_NOON)
    assert not unknown.is_known


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json", "not JSON"),
        (b"[1]", "not a JSON object"),
        (_body(type=None), "no `type`"),
        (_body(locationId=None), "no `locationId`"),
        (_body(contactId=None), "names no contact"),
        (_body(contactId="../x"), "not a CRM id"),
        (
            _body(timestamp=(UTC_NOON - timedelta(seconds=REPLAY_WINDOW_S + 1)).isoformat()),
            "replayed",
        ),
        (_body(timestamp="yesterday"), "not an ISO"),
    ],
)
def test_events_that_can_never_run_say_why(body: bytes, reason: str) -> None:
    with pytest.raises(DecodeError, match=reason):
        decode_event(body, now=UTC_NOON)


# --- the scheduler, on both backends --------------------------------------------------------


@pytest.fixture
def ring(app_settings: Settings) -> KeyRing:
    return open_keyring(app_settings)


@pytest.fixture
def intakes(app_settings: Settings) -> Iterator[list[LeadIntake]]:
    """Two intakes on the test's database: two workers' worth."""
    opened = [LeadIntake.open(RuntimeOptions.from_settings(app_settings)) for _ in range(2)]
    yield opened
    for intake in opened:
        intake.close()


def test_the_trigger_tables_match_their_migration(app_store: AppStore) -> None:
    with app_store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "lw_alembic_version", "compare_type": True}
        )
        diffs = [
            d
            for d in compare_metadata(context, AppBase.metadata)
            if "lw_crm_hooks" in repr(d) or "lw_schedule_state" in repr(d)
        ]
    assert diffs == []


SCHEDULE_FLOW = """\
name: {name}
trigger: {{type: schedule, {when}}}
steps:
  - id: ping
    type: webhook
    url: {url}
"""


def _schedule_flow(
    name: str, when: str = "every: 1m", url: str = "https://example.org/h"
) -> FlowDocument:
    return load_flow(SCHEDULE_FLOW.format(name=name, when=when, url=url))


def _published_at(store: AppStore, flow_id: str) -> datetime:
    with store.read_sessions() as session:
        found = session.scalars(
            select(FlowVersionRow.published_at)
            .where(FlowVersionRow.flow_id == flow_id)
            .order_by(FlowVersionRow.version.desc())
        ).first()
    assert found is not None
    return found


def _runs(store: AppStore, flow_id: str) -> list[str]:
    with store.read_sessions() as session:
        return sorted(session.scalars(select(RunRow.run_id).where(RunRow.flow_id == flow_id)))


def test_two_schedulers_racing_fire_each_due_time_once(
    app_store: AppStore, ring: KeyRing, intakes: list[LeadIntake]
) -> None:
    connect_crm(app_store, ring, "http://127.0.0.1:9", "loc-s", "key")
    flow_id = publish(app_store, ring, _schedule_flow(f"race-{uuid.uuid4().hex[:6]}"))
    published = _published_at(app_store, flow_id)
    first_due = published.replace(second=0, microsecond=0) + timedelta(minutes=1)
    schedulers = [Scheduler(app_store, intake) for intake in intakes]

    def race(moment: datetime) -> list[str]:
        started: list[list[str]] = [[], []]
        barrier = threading.Barrier(2)

        def tick(index: int) -> None:
            barrier.wait()
            started[index] = schedulers[index].tick(moment)

        threads = [threading.Thread(target=tick, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return started[0] + started[1]

    # Nothing is due before the flow was published.
    assert race(first_due - timedelta(seconds=1)) == []
    due = f"schedule:{flow_id}:{due_text(first_due)}"
    assert race(first_due + timedelta(seconds=5)) == [due]
    assert race(first_due + timedelta(seconds=30)) == []  # the same due time, again
    second = first_due + timedelta(minutes=1)
    assert race(second) == [f"schedule:{flow_id}:{due_text(second)}"]
    # Ten due times missed (no worker ran): only the latest fires.
    late = second + timedelta(minutes=10, seconds=20)
    assert race(late) == [f"schedule:{flow_id}:{due_text(second + timedelta(minutes=10))}"]
    assert len(_runs(app_store, flow_id)) == 3
    with app_store.read_sessions() as session:
        state = session.get(ScheduleStateRow, flow_id)
        assert state is not None
        assert state.last_due_at == second + timedelta(minutes=10)
    # A worker started afresh (no memory) reads the state: nothing fires twice, even once the
    # runs are gone (pruned after their retention).
    with app_store.sessions() as session:
        session.execute(RunRow.__table__.delete().where(RunRow.flow_id == flow_id))
        session.commit()
    assert Scheduler(app_store, intakes[0]).tick(late + timedelta(seconds=20)) == []
    # A run's payload says what to plan: the due time, and where its calls go.
    payload = run_payload_of(intakes[0], due)
    assert payload["trigger"] == "schedule"
    assert payload["schedule"] == {"due_at": due_text(first_due)}
    assert payload["location_id"] == "loc-s"


def test_a_schedule_flow_that_cannot_run_fires_nothing_and_says_why(
    app_store: AppStore, ring: KeyRing, intakes: list[LeadIntake], caplog: pytest.LogCaptureFixture
) -> None:
    flow_id = publish(app_store, ring, _schedule_flow("orphan", "every: 1s"))
    scheduler = Scheduler(app_store, intakes[0])
    moment = datetime.now(UTC) + timedelta(seconds=5)
    with caplog.at_level(logging.ERROR, "leadwire.engine.sources.schedule"):
        assert scheduler.tick(moment) == []
        assert scheduler.tick(moment + timedelta(seconds=1)) == []
    assert [r.message for r in caplog.records].count(
        f"schedule.cannot_run flow={flow_id} reason=flow 'orphan' has no CRM connection: "
        "add one (leadwire connections)"
    ) == 1
    assert _runs(app_store, flow_id) == []


def test_a_schedule_run_calls_its_webhook_and_the_crm(
    app_store: AppStore,
    ring: KeyRing,
    intakes: list[LeadIntake],
    runtime_tenant: RuntimeTenant,
) -> None:
    connect_crm(
        app_store, ring, runtime_tenant.direct_url, runtime_tenant.location_id, runtime_tenant.key
    )
    with receiving() as receiver:
        url = receiver.endpoint()
        document = load_flow(
            SCHEDULE_FLOW.format(name="ping", when="cron: '*/5 * * * *'", url=url)
            + """\
  - id: count
    type: contacts_operation
    operation: get-contacts
    query: {limit: "1"}
"""
        )
        flow_id = publish(app_store, ring, document)
        moment = datetime.now(UTC) + timedelta(minutes=5)
        (run_id,) = Scheduler(app_store, intakes[0]).tick(moment)
        payload = run_payload_of(intakes[0], run_id)
        executor = FlowExecutor(app_store, ring)
        try:
            done = play(executor, payload)
        finally:
            executor.close()
        (hit,) = receiver.hits(url)
    assert [step for step, _ in done] == ["plan", "ping", "count"]
    assert done[2][1].summary == "get-contacts: 200"
    body = hit.json()
    due = datetime.fromisoformat(payload["schedule"]["due_at"])
    assert run_id == f"schedule:{flow_id}:{due_text(due)}"
    assert body["schedule"] == {"due_at": iso_datetime(due)}
    assert body["flow"] == {"id": flow_id, "version": 1}
    with app_store.read_sessions() as session:
        secret = flow_store.webhook_secret(flow_store.find_flow(session, flow_id), ring)
    assert verify_signature(hit.body, secret, hit.headers["x-leadwire-signature"])


# --- manual runs and re-runs, on both backends -------------------------------------------


MANUAL_FLOW = """\
name: {name}
trigger: {{type: manual}}
steps:
  - id: contact
    type: upsert_contact
    fields: {{email: "{{{{ answers.email | trim | lower }}}}"}}
  - id: note
    type: add_note
    body: "{note} {{{{ lead.id }}}}"
"""


def manual_flow(name: str, note: str = "v1") -> FlowDocument:
    """Return a manual flow: upsert the lead's contact, add a note saying `note`."""
    return load_flow(MANUAL_FLOW.format(name=name, note=note))


def lead_file_data(email: str) -> dict[str, Any]:
    """Return a lead (lead-file format) with a fresh id and this e-mail."""
    lead = {k: v for k, v in SAMPLE_LEAD.items() if k != "context"}
    lead["lead_id"] = str(uuid.uuid4().int)[:15]
    lead["answers"] = [
        {**a, "answer": email} if a["question_type"] == "EMAIL" else a
        for a in SAMPLE_LEAD["answers"]
        if a["question_type"] != "PHONE_NUMBER"
    ]
    return lead


@dataclass
class Manual:
    store: AppStore
    ring: KeyRing
    intake: LeadIntake
    flow_id: str


@pytest.fixture
def manual(app_store: AppStore, ring: KeyRing, intakes: list[LeadIntake]) -> Manual:
    connect_crm(app_store, ring, "http://127.0.0.1:9", "loc-m", "key")
    flow_id = publish(app_store, ring, manual_flow("hand"))
    return Manual(app_store, ring, intakes[0], flow_id)


def test_a_manual_run_runs_the_latest_version_once_per_lead(manual: Manual) -> None:
    lead, _ = read_lead(lead_file_data("hand@example.com"))
    started = start_manual_run(manual.store, manual.intake, "hand", lead)
    assert started.is_new
    assert started.run_id == f"lead:{lead.lead_id}:{manual.flow_id}:v1"
    again = start_manual_run(manual.store, manual.intake, manual.flow_id, lead)
    assert (again.run_id, again.is_new) == (started.run_id, False)
    payload = run_payload_of(manual.intake, started.run_id)
    assert payload["lead"]["lead_id"] == lead.lead_id
    assert "trigger" not in payload  # planned as any lead
    with manual.store.read_sessions() as session:
        row = session.get(RunRow, started.run_id)
        assert row is not None
        assert (row.email, row.location_id) == ("hand@example.com", "loc-m")
    with pytest.raises(RunRequestError, match="no flow"):
        start_manual_run(manual.store, manual.intake, "nope", lead)


def test_a_rerun_goes_through_another_version_never_the_same(manual: Manual) -> None:
    lead, _ = read_lead(lead_file_data("again@example.com"))
    first = start_manual_run(manual.store, manual.intake, "hand", lead)
    with pytest.raises(RunRequestError, match=r"already ran version 1.*inbox replay"):
        start_rerun(manual.store, manual.intake, first.run_id)
    publish(manual.store, manual.ring, manual_flow("hand", "v2"), manual.flow_id)
    second = start_rerun(manual.store, manual.intake, first.run_id)
    assert (second.run_id, second.version, second.is_new) == (
        f"lead:{lead.lead_id}:{manual.flow_id}:v2",
        2,
        True,
    )
    assert not start_rerun(manual.store, manual.intake, first.run_id).is_new
    assert run_payload_of(manual.intake, second.run_id)["flow_version"] == 2
    # Back to version 1 from the second run: that id is the first run's.
    back = start_rerun(manual.store, manual.intake, second.run_id, version=1)
    assert (back.run_id, back.is_new) == (first.run_id, False)
    with pytest.raises(RunRequestError, match="no version 7"):
        start_rerun(manual.store, manual.intake, first.run_id, version=7)
    with pytest.raises(RunRequestError, match="no run"):
        start_rerun(manual.store, manual.intake, "lead:1:x:v1")


def test_the_crm_event_example_of_the_docs_plans_as_written() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "flows.md").read_text(encoding="utf-8")
    blocks = [part.split("```", 1)[0] for part in text.split("```yaml\n")[1:]]
    (example,) = [block for block in blocks if "crm_event" in block]
    result = plan_for(
        _version(example), "crm:wh_1", event_names(EVENT), now=UTC_NOON, location_id="loc-1"
    )
    note, tag = result.calls
    assert note.body == {"body": "Done: Call back (task tk_7, TaskComplete)"}
    assert (tag.path, tag.body) == ("/contacts/{contact_id}/tags", {"tags": ["followed-up"]})


def test_a_schedule_run_is_rerun_through_v2_with_its_due_time(
    app_store: AppStore, ring: KeyRing, intakes: list[LeadIntake]
) -> None:
    connect_crm(app_store, ring, "http://127.0.0.1:9", "loc-r", "key")
    flow_id = publish(app_store, ring, _schedule_flow("rerun me", "every: 1h"))
    (run_id,) = Scheduler(app_store, intakes[0]).tick(datetime.now(UTC) + timedelta(hours=1))
    publish(app_store, ring, _schedule_flow("rerun me", "every: 2h"), flow_id)
    again = start_rerun(app_store, intakes[1], run_id)
    assert (again.run_id, again.version, again.is_new) == (f"{run_id}:v2", 2, True)
    first, second = (run_payload_of(intakes[0], r) for r in (run_id, again.run_id))
    assert second == {**first, "flow_version": 2}
    with app_store.read_sessions() as session:
        row = session.get(RunRow, again.run_id)
        assert row is not None
        assert row.lead_id == first["subject"]
    assert not start_rerun(app_store, intakes[1], run_id).is_new
