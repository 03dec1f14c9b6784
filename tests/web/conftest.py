"""The web app on a real socket, per backend: intake, flows, a CRM connection, a hook, leads."""

from __future__ import annotations

import base64
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from leadwire.connectors.pinterest.envelope import encode_delivery
from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)
from leadwire.engine.connections import ConnectionSecrets, ContactsConfig, add_connection
from leadwire.engine.flows import load_template
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.triggers import PinterestLeadTrigger
from leadwire.engine.runtime import LeadIntake, RuntimeOptions
from leadwire.engine.runtime.jobs import CallOutcome, CallRecord, LeadJob
from leadwire.engine.runtime.journal import RUNS, SegmentEnd, write_segment_end
from leadwire.engine.sources import create_hook
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from leadwire.store.models.base import AppBase
from leadwire.store.models.runs import RunRow, RunStatus
from leadwire.web import ApiTokens, WebServices, create_app
from tests.conftest import make_settings
from tests.servers import running

API_TOKEN = "lwapi_test-token-for-the-web-tests"
AD_ACCOUNT = "549755885175"


def new_key() -> str:
    """Return a fresh subscription key (base64 of 32 bytes)."""
    return base64.b64encode(os.urandom(32)).decode()


def make_lead(
    email: str = " Ada.Lovelace@Example.COM ", *, ad_account: str = AD_ACCOUNT, form: str = "7001"
) -> Lead:
    """Return a lead with a fresh id (unique across tests: DBOS's tables outlive each test)."""
    return Lead(
        lead_id=LeadId(str(uuid.uuid4().int)[:19]),
        ad_account_id=AdAccountId(ad_account),
        lead_form_id=LeadFormId(form),
        created_time=datetime.now(UTC).replace(microsecond=0),
        answers=(
            Answer(QuestionType.FULL_NAME, None, ("Ada Lovelace",)),
            Answer(QuestionType.EMAIL, None, (email,)),
        ),
    )


@dataclass
class Web:
    """The running app, its services, and a hook to deliver to."""

    url: str
    settings: Settings
    services: WebServices
    http: httpx.Client
    api: httpx.Client
    secret: str
    key: str
    hook_id: str

    @property
    def store(self) -> AppStore:
        """The app store."""
        return self.services.store

    def deliver(self, leads: list[Lead], *, key: str | None = None) -> httpx.Response:
        """POST `leads` encrypted with the hook's key (or `key`) to the hook."""
        return self.post_raw(encode_delivery(leads, key or self.key))

    def post_raw(self, body: bytes, secret: str | None = None) -> httpx.Response:
        """POST a raw body to the hook (or to another secret's URL)."""
        return self.http.post(
            f"/hooks/pinterest/{secret or self.secret}",
            content=body,
            headers={"Content-Type": "application/json"},
        )

    def run_count(self, lead_id: str | None = None) -> int:
        """Return how many runs are recorded (of one lead)."""
        query = select(func.count()).select_from(RUNS)
        if lead_id is not None:
            query = query.where(RUNS.c.lead_id == lead_id)
        with self.store.engine.connect() as conn:
            return int(conn.scalar(query) or 0)

    def workflows(self, lead: Lead) -> list[str]:
        """Return the ids of DBOS workflows enqueued for `lead`."""
        statuses = self.services.intake.client.list_workflows(
            workflow_id_prefix=f"lead:{lead.lead_id}:", load_input=False, load_output=False
        )
        return [s.workflow_id for s in statuses]

    def add_crm(self, name: str = "crm", location: str = "loc-web") -> str:
        """Add a CRM connection; return its id."""
        with self.store.sessions() as session:
            connection = add_connection(
                session,
                self.services.ring,
                name=name,
                config=ContactsConfig(base_url="http://127.0.0.1:9", location_id=location),
                values=ConnectionSecrets(api_key="pit-web-test-key"),
                scopes=["contacts.readonly", "contacts.write"],
            )
            session.commit()
        return connection.id

    def add_flow(
        self,
        template: str = "new-lead-contact",
        *,
        name: str | None = None,
        ad_account: str | None = None,
    ) -> str:
        """Install and publish a template as a flow (only for `ad_account`, if given)."""
        document = load_template(template)
        if ad_account is not None:
            trigger = PinterestLeadTrigger(type="pinterest_lead", ad_account_id=ad_account)
            document = document.model_copy(update={"trigger": trigger})
        with self.store.sessions() as session:
            row = flow_store.create_flow(session, document, self.services.ring, name=name)
            flow_store.publish(session, row.id)
            session.commit()
            return row.id


def _empty_app_tables(store: AppStore) -> None:
    # Children first; DELETE, not TRUNCATE: on a few rows it is much faster on PostgreSQL.
    with store.engine.begin() as conn:
        for table in reversed(AppBase.metadata.sorted_tables):
            conn.execute(table.delete())


@dataclass
class Database:
    """One app store and intake per backend for the session; emptied before each test."""

    url: str
    store: AppStore
    intake: LeadIntake


@pytest.fixture(scope="session")
def web_databases(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Database]]:
    """The session's databases by backend, opened (and migrated) on first use."""
    opened: dict[str, Database] = {}
    yield opened
    for database in opened.values():
        database.intake.close()
        database.store.engine.dispose()


@pytest.fixture
def web_database(
    backend: str,
    web_databases: dict[str, Database],
    tmp_path_factory: pytest.TempPathFactory,
    request: pytest.FixtureRequest,
) -> Database:
    """This backend's database, with every app table empty (DBOS's tables are left: leads
    have fresh ids in every test)."""
    if backend not in web_databases:
        if backend == "postgres":
            url = request.getfixturevalue("pg_url")
        else:
            url = f"sqlite:///{tmp_path_factory.mktemp('web-db') / 'leadwire.db'}"
        settings = make_settings(tmp_path_factory.mktemp("web-settings"), database_url=url)
        store = open_app_store(settings)
        intake = LeadIntake.open(RuntimeOptions.from_settings(settings))
        web_databases[backend] = Database(url, store, intake)
    database = web_databases[backend]
    _empty_app_tables(database.store)
    return database


@pytest.fixture
def web_settings(web_database: Database, tmp_path: Path) -> Settings:
    """Settings on this backend's database, with this test's data folder (its own key ring)."""
    return make_settings(tmp_path, database_url=web_database.url)


@pytest.fixture
def web(web_settings: Settings, web_database: Database) -> Iterator[Web]:
    """The web app over a real socket, with one hook; no flow, no CRM connection yet."""
    services = WebServices.open(
        web_settings,
        store=web_database.store,
        intake=web_database.intake,
        tokens=ApiTokens.of(API_TOKEN),
        hook_ttl_s=0.0,
        routes_ttl_s=0.0,
    )
    key = new_key()
    with services.store.sessions() as session:
        hook, secret = create_hook(session, services.ring, name="pins", delivery_key=key)
        session.commit()
    try:
        with running(create_app(services)) as url:
            auth = {"Authorization": f"Bearer {API_TOKEN}"}
            with (
                httpx.Client(base_url=url, timeout=30) as http,
                httpx.Client(base_url=url, timeout=30, headers=auth) as api,
            ):
                yield Web(url, web_settings, services, http, api, secret, key, hook.id)
    finally:
        services.close()


def end_run(web: Web, run_id: str, *, fail: bool) -> None:
    """Record a segment end for `run_id` as a worker would: succeeded, or needing attention.

    Two steps: the contact upserted, then the tags (refused for good when `fail`).
    """
    with web.store.read_sessions() as session:
        row = session.get(RunRow, run_id)
        assert row is not None
        job = LeadJob(
            run_id=row.run_id,
            lead_id=row.lead_id,
            flow_id=row.flow_id,
            flow_version=row.flow_version,
            location_id=row.location_id,
            payload={},
            received_ms=int(row.received_at.timestamp() * 1000),
        )
    start = job.received_ms + 5
    upsert = CallRecord(
        index=0,
        step_id="contact",
        summary="POST /contacts/upsert",
        outcome=CallOutcome.OK,
        started_ms=start,
        duration_ms=12,
        outputs={"contact_id": "ct_1"},
        crm_ids={"contact": "ct_1"},
        result="created",
    )
    tags = CallRecord(
        index=1,
        step_id="tags",
        summary="POST /contacts/ct_1/tags",
        outcome=CallOutcome.FATAL if fail else CallOutcome.OK,
        started_ms=start + 20,
        duration_ms=7,
        error_type="BadRequestError" if fail else None,
        error_message="tag is too long" if fail else None,
    )
    write_segment_end(
        web.services.intake.engine,
        SegmentEnd(
            job=job,
            workflow_id=run_id,
            status=RunStatus.NEEDS_ATTENTION if fail else RunStatus.SUCCEEDED,
            records=[upsert, tags],
            prior_attempts=0,
            tries=0,
            crm_ids={"contact": "ct_1"},
            ended_ms=start + 40,
            failure=tags if fail else None,
            failure_attempts=1 if fail else 0,
            first_failure_ms=start + 27 if fail else None,
            function_id=1,
        ),
    )
