"""The CRM event receiver over real sockets, on both backends, fed by the embedded CRM's own
signed deliveries: a completed task starts a run that notes on the event's contact, once."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from leadwire.cli import hooks
from leadwire.crm import admin
from leadwire.crm.app import create_app as create_crm_app
from leadwire.crm.models import WebhookDelivery, utcnow
from leadwire.crm.store import CrmStore, open_store
from leadwire.crm.webhooks.dispatcher import encode_body
from leadwire.crm.webhooks.retries import RetryPolicy
from leadwire.crm.webhooks.signing import SigningKeys, generate_keys, load_or_create_keys
from leadwire.crm.webhooks.subscriptions import create_subscription
from leadwire.engine.execution import FlowExecutor
from leadwire.engine.sources.crm_events import create_crm_hook
from leadwire.settings import Settings
from leadwire.store.models.runs import RunRow
from leadwire.web import ApiTokens, WebServices, create_app
from leadwire.web.crm_events import CrmEventReceiver
from tests.conftest import make_settings
from tests.engine.test_triggers import (
    complete_a_task,
    connect_crm,
    crm_client,
    note_flow,
    notes_of,
    play,
    publish,
    run_payload_of,
)
from tests.receivers import eventually
from tests.servers import running
from tests.web.conftest import API_TOKEN, Database

FAST = RetryPolicy(max_attempts=3, base_s=0.02, cap_s=0.1)


@dataclass
class Crm:
    """The embedded CRM, its store, and the keys it signs its events with."""

    url: str
    store: CrmStore
    keys: SigningKeys

    def tenant(self) -> tuple[str, str]:
        """Make a location with a read-write key; return both."""
        with self.store.sessions() as session:
            location = admin.create_location(session, "events")
            key = admin.create_api_key(session, location.id, "rw")
            session.commit()
        return location.id, key.token

    def subscribe(self, location_id: str, url: str) -> str:
        """Subscribe `url` to the location's TaskComplete events."""
        with self.store.sessions() as session:
            subscription = create_subscription(session, location_id, url, ["TaskComplete"])
            session.commit()
        return subscription.id

    def delivered(self, subscription_id: str) -> WebhookDelivery | None:
        """Return the subscription's delivery once it was delivered."""
        with self.store.read_sessions() as session:
            row = session.scalars(
                select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
            ).first()
        return row if row is not None and row.status == "delivered" else None

    def sign(
        self, payload: dict[str, Any], keys: SigningKeys | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """Return a payload as the CRM sends it now (stamped, signed: a retry's shape)."""
        body = encode_body(payload, utcnow())
        return body, (keys or self.keys).signature_headers(body)


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crm]:
    settings = make_settings(tmp_path_factory.mktemp("events-crm"))
    store = open_store(settings)
    with running(create_crm_app(settings, store=store, webhook_policy=FAST)) as url:
        yield Crm(url, store, load_or_create_keys(settings.data_dir))
    store.engine.dispose()


@dataclass
class Events:
    """The engine's web app with a CRM hook, a CRM connection and the TaskComplete flow."""

    url: str
    services: WebServices
    http: httpx.Client
    crm: Crm
    location_id: str
    key: str
    secret: str
    flow_id: str

    @property
    def hook_url(self) -> str:
        """The hook's URL."""
        return f"{self.url}/hooks/crm/{self.secret}"

    def post(
        self, body: bytes, headers: dict[str, str], secret: str | None = None
    ) -> httpx.Response:
        """POST an event to the hook (or to another secret's URL)."""
        return self.http.post(
            f"/hooks/crm/{secret or self.secret}",
            content=body,
            headers={**headers, "content-type": "application/json"},
        )

    def runs(self) -> list[RunRow]:
        """Return the flow's runs."""
        with self.services.store.read_sessions() as session:
            query = select(RunRow).where(RunRow.flow_id == self.flow_id)
            return list(session.scalars(query).all())


@pytest.fixture
def events(web_settings: Settings, web_database: Database, crm: Crm) -> Iterator[Events]:
    services = WebServices.open(
        web_settings,
        store=web_database.store,
        intake=web_database.intake,
        tokens=ApiTokens.of(API_TOKEN),
    )
    store, ring = services.store, services.ring
    location_id, key = crm.tenant()
    connect_crm(store, ring, crm.url, location_id, key)
    flow_id = publish(store, ring, note_flow("task done"))
    public_key = httpx.get(f"{crm.url}/webhooks/public-key/ed25519").raise_for_status().text
    with store.sessions() as session:
        _hook, secret = create_crm_hook(session, name="crm", public_key=public_key)
        session.commit()
    app = create_app(services)
    # Flows and hooks read afresh on every event: the tests change them as they go.
    app.state.crm_events = CrmEventReceiver(
        store.read_sessions, store.sessions, services.group, ttl_s=0.0
    )
    try:
        with running(app) as url, httpx.Client(base_url=url, timeout=30) as http:
            yield Events(url, services, http, crm, location_id, key, secret, flow_id)
    finally:
        services.close()


def _event(events: Events, **fields: Any) -> dict[str, Any]:
    payload = {
        "type": "TaskComplete",
        "locationId": events.location_id,
        "id": "tk_x",
        "contactId": "ct_x",
        "title": "Call back",
        "webhookId": uuid.uuid4().hex,
    }
    payload.update(fields)
    return {k: v for k, v in payload.items() if v is not None}


def test_a_completed_task_notes_on_its_contact_once_however_often_delivered(
    events: Events,
) -> None:
    subscription = events.crm.subscribe(events.location_id, events.hook_url)
    with crm_client(events.crm.url, events.key) as client:
        contact_id, _task = complete_a_task(client, events.location_id, "Call Ada back")
        delivery = eventually(lambda: events.crm.delivered(subscription))
        (run,) = events.runs()
        assert run.run_id == f"crm:{delivery.id}:{events.flow_id}"
        assert (run.lead_id, run.status, run.location_id) == (
            f"crm:{delivery.id}",
            "queued",
            events.location_id,
        )
        payload = run_payload_of(events.services.intake, run.run_id)
        assert payload["contact_id"] == contact_id
        executor = FlowExecutor(events.services.store, events.services.ring)
        try:
            done = play(executor, payload)
            assert [step for step, _ in done] == ["plan", "event-contact", "done-note"]
            assert done[1][1].outputs["contact_id"] == contact_id
            play(executor, payload)  # a run made twice (a crash mid-step): still one note
        finally:
            executor.close()
        assert notes_of(client, contact_id) == ["Task done: Call Ada back (TaskComplete)"]

    # The CRM delivers it again (a retry is stamped and signed afresh): nothing starts.
    body, headers = events.crm.sign(delivery.payload)
    again = events.post(body, headers)
    assert again.status_code == 200, again.text
    assert again.json() == {"accepted": 0, "duplicates": 1, "flows": 1}
    assert len(events.runs()) == 1


def test_signatures_are_checked_before_anything_else(events: Events) -> None:
    body, headers = events.crm.sign(_event(events))
    tampered = body.replace(b"Call back", b"Call front")
    refused = [
        events.post(body, {}),
        events.post(body, generate_keys().signature_headers(body)),
        events.post(tampered, headers),
        # The legacy RSA header alone does not do for an Ed25519 hook.
        events.post(body, {"x-wh-signature": headers["x-wh-signature"]}),
        events.post(body, {"x-ghl-signature": "not base64!"}),
    ]
    for answer in refused:
        assert answer.status_code == 401, answer.text
        assert answer.json()["error"] == "bad_signature"
    assert "x-ghl-signature" in refused[0].json()["detail"]
    assert events.post(body, headers, secret="x" * 43).status_code == 404
    assert events.runs() == []
    assert events.post(body, headers).json() == {"accepted": 1, "duplicates": 0, "flows": 1}


def test_an_rsa_hook_checks_the_legacy_header(events: Events) -> None:
    public_key = httpx.get(f"{events.crm.url}/webhooks/public-key").raise_for_status().text
    with events.services.store.sessions() as session:
        hook, secret = create_crm_hook(session, name="legacy", public_key=public_key)
        session.commit()
    assert hook.scheme.value == "rsa"
    body, headers = events.crm.sign(_event(events))
    assert (
        events.post(body, {"x-ghl-signature": headers["x-ghl-signature"]}, secret).status_code
        == 401
    )
    assert events.post(body, headers, secret).json()["accepted"] == 1


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"contactId": None}, "names no contact"),
        ({"locationId": None}, "no `locationId`"),
        ({"contactId": "../../x"}, "not a CRM id"),
    ],
)
def test_events_that_can_never_run_are_400(
    events: Events, fields: dict[str, Any], reason: str
) -> None:
    body, headers = events.crm.sign(_event(events, **fields))
    answer = events.post(body, headers)
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"] == "bad_event"
    assert reason in answer.json()["detail"]
    assert events.runs() == []


def test_a_delivery_replayed_later_is_refused(events: Events) -> None:
    payload = _event(events)
    body = json.dumps({**payload, "timestamp": (utcnow() - timedelta(minutes=10)).isoformat()})
    raw = body.encode()
    answer = events.post(raw, events.crm.keys.signature_headers(raw))
    assert answer.status_code == 400
    assert "replayed" in answer.json()["detail"]


def test_events_no_flow_takes_are_acknowledged(events: Events) -> None:
    for payload in (
        _event(events, type="OpportunityCreate", contactId=None),
        _event(events, type="NoteCreate"),
        _event(events, locationId="another-location"),
    ):
        body, headers = events.crm.sign(payload)
        answer = events.post(body, headers)
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"accepted": 0, "duplicates": 0, "flows": 0}
    assert events.runs() == []


def test_a_flow_that_cannot_say_its_location_holds_the_event_back(events: Events) -> None:
    services = events.services
    connect_crm(services.store, services.ring, events.crm.url, "elsewhere", "key")
    body, headers = events.crm.sign(_event(events))
    answer = events.post(body, headers)
    assert answer.status_code == 503
    assert answer.headers["retry-after"] == "60"
    assert "names no CRM connection and there are 2" in answer.json()["detail"]
    assert events.runs() == []


runner = CliRunner()


def test_hooks_add_crm_list_remove(events: Events, tmp_path: Path) -> None:
    settings = events.services.settings
    added = runner.invoke(hooks.app, ["add-crm", "embedded"], obj=settings)
    assert added.exit_code == 0, added.output
    url = added.output.strip().splitlines()[-1]
    assert url.startswith(f"http://127.0.0.1:{settings.engine_port}/hooks/crm/")
    assert "ed25519 signatures" in added.output
    # The default key is the embedded CRM's of this data folder: its signatures verify.
    keys = load_or_create_keys(settings.data_dir)
    body = encode_body(_event(events), utcnow())
    secret = url.rsplit("/", 1)[1]
    assert events.post(body, keys.signature_headers(body), secret).status_code == 200

    pem = tmp_path / "highlevel.pem"
    pem.write_text(httpx.get(f"{events.crm.url}/webhooks/public-key").text)
    added = runner.invoke(hooks.app, ["add-crm", "hl", "--public-key-file", str(pem)], obj=settings)
    assert added.exit_code == 0, added.output
    assert "rsa signatures" in added.output
    pem.write_text("-----BEGIN PUBLIC KEY-----\nnope\n-----END PUBLIC KEY-----\n")
    bad = runner.invoke(hooks.app, ["add-crm", "bad", "--public-key-file", str(pem)], obj=settings)
    assert bad.exit_code == 2
    assert "not a PEM public key" in bad.output
    twice = runner.invoke(hooks.app, ["add-crm", "hl"], obj=settings)
    assert "exists already" in twice.output

    listed = runner.invoke(hooks.app, ["list-crm"], obj=settings, env={"COLUMNS": "200"})
    assert listed.exit_code == 0, listed.output
    for name in ("embedded", "hl", "crm"):
        assert name in listed.output
    assert secret not in listed.output
    removed = runner.invoke(hooks.app, ["remove-crm", "embedded"], obj=settings)
    assert "removed CRM hook embedded" in removed.output
    assert events.post(body, keys.signature_headers(body), secret).status_code == 404
    assert runner.invoke(hooks.app, ["remove-crm", "embedded"], obj=settings).exit_code == 2
