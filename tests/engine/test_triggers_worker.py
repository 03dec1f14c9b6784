"""The three new triggers end to end with a real `leadwire worker` process, on both backends.

A person's run (`leadwire flows run`) and its re-run through version 2 (`leadwire runs rerun`),
a CRM event from the embedded CRM's own delivery, and a schedule fired by the worker's
scheduler: each is recorded durably, run by the worker, and lands in the CRM (or calls its
webhook) exactly once.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import typer
from sqlalchemy import select
from typer.testing import CliRunner

from leadwire.cli import flows_run
from leadwire.crm import admin
from leadwire.crm.store import CrmStore
from leadwire.crm.webhooks.subscriptions import create_subscription
from leadwire.engine.flows import load_flow
from leadwire.engine.secrets import KeyRing, open_keyring
from leadwire.engine.sources.crm_events import create_crm_hook
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from leadwire.store.models.runs import RunRow
from leadwire.web import ApiTokens, WebServices, create_app
from tests.conftest import make_settings
from tests.databases import postgres_database
from tests.engine.conftest import wait_until
from tests.engine.test_triggers import (
    SCHEDULE_FLOW,
    complete_a_task,
    connect_crm,
    crm_client,
    lead_file_data,
    manual_flow,
    note_flow,
    notes_of,
    publish,
)
from tests.receivers import Receiver, receiving
from tests.servers import running

LEADWIRE = Path(sys.executable).with_name("leadwire")


@pytest.fixture(
    scope="module",
    params=[
        pytest.param("sqlite", marks=pytest.mark.xdist_group("triggers-sqlite")),
        pytest.param(
            "postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("triggers-postgres")]
        ),
    ],
)
def backend_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A fresh engine database for the module, per backend."""
    if request.param == "postgres":
        with postgres_database() as url:
            yield url
        return
    yield f"sqlite:///{tmp_path_factory.mktemp('triggers-db') / 'leadwire.db'}"


@dataclass
class Stack:
    """The worker's world: settings (shared data folder), store, keys, the CRM and its tenant."""

    settings: Settings
    store: AppStore
    ring: KeyRing
    crm_url: str
    crm_store: CrmStore
    location_id: str
    key: str


@pytest.fixture(scope="module")
def stack(
    backend_url: str,
    runtime_crm: tuple[str, CrmStore],
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    """The app store, a CRM location and connection, and a `leadwire worker` running on them."""
    data_dir = tmp_path_factory.mktemp("triggers-data")
    env = {
        "LEADWIRE_DATA_DIR": str(data_dir),
        "LEADWIRE_DATABASE_URL": backend_url,
        "LEADWIRE_ENGINE_POLL_INTERVAL_S": "0",
        "LEADWIRE_ENGINE_EXECUTOR_ID": f"triggers-{uuid.uuid4().hex[:6]}",
        "LEADWIRE_SQLITE_SYNCHRONOUS": "NORMAL",
        "LEADWIRE_ENGINE_POLLING_INTERVAL_S": "0.05",
    }
    settings = make_settings(data_dir, database_url=backend_url, engine_poll_interval_s=0)
    store = open_app_store(settings)
    ring = open_keyring(settings)  # made here first: the worker opens the same key file
    crm_url, crm_store = runtime_crm
    with crm_store.sessions() as session:
        location = admin.create_location(session, "triggers")
        key = admin.create_api_key(session, location.id, "rw").token
        session.commit()
    connect_crm(store, ring, crm_url, location.id, key)
    log_path = data_dir / "worker.log"
    with log_path.open("ab") as log:
        worker = subprocess.Popen(
            [str(LEADWIRE), "worker"],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
        )
    try:
        wait_until(lambda: "ready" in log_path.read_text() or worker.poll() is not None, 60)
        assert worker.poll() is None, log_path.read_text()
        yield Stack(settings, store, ring, crm_url, crm_store, location.id, key)
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(timeout=10)
        store.engine.dispose()


def _status(store: AppStore, run_id: str) -> str | None:
    with store.read_sessions() as session:
        row = session.get(RunRow, run_id)
        return None if row is None else row.status


def _cli() -> typer.Typer:
    # The registration `leadwire.cli.main` makes, on an app of their own.
    app = typer.Typer()
    app.command("run")(flows_run.run)
    app.command("rerun")(flows_run.rerun)
    return app


def _invoke(settings: Settings, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(_cli(), list(args), obj=settings, env={"COLUMNS": "200"})
    assert result.exit_code == code, result.output
    return result.output


def test_a_person_runs_a_flow_on_a_lead_then_reruns_it_through_v2(
    stack: Stack, tmp_path: Path
) -> None:
    email = f"{uuid.uuid4().hex[:10]}@example.com"
    lead = lead_file_data(email)
    lead_file = tmp_path / "lead.json"
    lead_file.write_text(json.dumps(lead))
    flow_id = publish(stack.store, stack.ring, manual_flow("by hand"))
    first = f"lead:{lead['lead_id']}:{flow_id}:v1"

    out = _invoke(stack.settings, "run", "by hand", "--lead", str(lead_file), "--wait", "60")
    assert f"recorded run {first}" in out
    assert f"run {first} succeeded" in out
    assert "exists already" in _invoke(
        stack.settings, "run", flow_id, "--lead", str(lead_file), code=1
    )
    assert "already ran version 1" in _invoke(stack.settings, "rerun", first, code=1)

    publish(stack.store, stack.ring, manual_flow("by hand", "v2"), flow_id)
    second = f"lead:{lead['lead_id']}:{flow_id}:v2"
    out = _invoke(stack.settings, "rerun", first, "--latest", "--wait", "60")
    assert f"run {second} succeeded" in out
    assert "exists already" in _invoke(stack.settings, "rerun", first, code=1)
    assert "inbox replay" in _invoke(stack.settings, "rerun", second, code=1)
    with crm_client(stack.crm_url, stack.key) as client:
        found = client.get(
            "/contacts/search/duplicate", params={"locationId": stack.location_id, "email": email}
        )
        contact = found.raise_for_status().json()["contact"]
        notes = sorted(notes_of(client, str(contact["id"])))
    assert notes == [f"v1 {lead['lead_id']}", f"v2 {lead['lead_id']}"]


def test_a_crm_event_runs_on_its_contact_in_the_worker(stack: Stack) -> None:
    flow_id = publish(stack.store, stack.ring, note_flow("on task done"))
    services = WebServices.open(stack.settings, store=stack.store, tokens=ApiTokens.of("t" * 32))
    try:
        public_key = httpx.get(f"{stack.crm_url}/webhooks/public-key/ed25519").text
        with stack.store.sessions() as session:
            _hook, secret = create_crm_hook(session, name="crm", public_key=public_key)
            session.commit()
        with running(create_app(services)) as url:
            with stack.crm_store.sessions() as session:
                create_subscription(
                    session, stack.location_id, f"{url}/hooks/crm/{secret}", ["TaskComplete"]
                )
                session.commit()
            with crm_client(stack.crm_url, stack.key) as client:
                contact_id, _ = complete_a_task(client, stack.location_id, "Send the quote")

                def ran() -> str | None:
                    with stack.store.read_sessions() as session:
                        return session.scalars(
                            select(RunRow.status).where(RunRow.flow_id == flow_id)
                        ).first()

                wait_until(lambda: ran() == "succeeded", 60)
                assert notes_of(client, contact_id) == ["Task done: Send the quote (TaskComplete)"]
    finally:
        services.close()


def test_the_worker_fires_a_schedule_once_per_due_time(stack: Stack) -> None:
    with receiving() as receiver:
        url = receiver.endpoint()
        document = load_flow(SCHEDULE_FLOW.format(name="every 1s", when="every: 1s", url=url))
        flow_id = publish(stack.store, stack.ring, document)

        def succeeded() -> list[str]:
            with stack.store.read_sessions() as session:
                return list(
                    session.scalars(
                        select(RunRow.run_id).where(
                            RunRow.flow_id == flow_id, RunRow.status == "succeeded"
                        )
                    )
                )

        wait_until(lambda: len(succeeded()) >= 2, 60)
        # Quiet it: a manual version starts nothing by itself.
        publish(stack.store, stack.ring, manual_flow("every 1s"), flow_id)
        runs = succeeded()
        hits = _hits_of(receiver, url)
    assert all(run.startswith(f"schedule:{flow_id}:") for run in runs)
    dues = [json.loads(hit)["schedule"]["due_at"] for hit in hits]
    assert len(dues) == len(set(dues))  # no due time called twice
    assert len(hits) >= len(runs)


def _hits_of(receiver: Receiver, url: str) -> list[bytes]:
    return [hit.body for hit in receiver.hits(url)]
