"""Event webhooks end to end: a real receiver, the real CRM and dispatchers, both backends."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

import httpx
import pytest
from sqlalchemy import select

from leadwire.crm import admin
from leadwire.crm.app import create_app
from leadwire.crm.events import EventType, emit
from leadwire.crm.models import WebhookDelivery, utcnow
from leadwire.crm.store import CrmStore, open_store
from leadwire.crm.webhooks.dispatcher import DEFAULT_TIMEOUT, Dispatcher
from leadwire.crm.webhooks.retries import RetryPolicy
from leadwire.crm.webhooks.signing import (
    ED25519_HEADER,
    RSA_HEADER,
    load_or_create_keys,
    verify_signature,
)
from leadwire.crm.webhooks.subscriptions import create_subscription
from tests.conftest import make_settings
from tests.crm.conftest import CrmServer, Tenant, new_tenant
from tests.databases import postgres_database
from tests.receivers import Receiver, eventually, receiving
from tests.servers import running

T = TypeVar("T")
# Tiny backoff so retries happen within the test; three attempts so giving up is quick too.
FAST = RetryPolicy(max_attempts=3, base_s=0.02, cap_s=0.1)


def deliveries(store: CrmStore, subscription_id: str) -> list[WebhookDelivery]:
    """Return a subscription's deliveries."""
    with store.read_sessions() as session:
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        return list(session.scalars(query).all())


def settled(
    store: CrmStore, subscription_id: str, status: str
) -> Callable[[], WebhookDelivery | None]:
    """Return a check for the subscription's only delivery having `status`."""

    def check() -> WebhookDelivery | None:
        rows = deliveries(store, subscription_id)
        return rows[0] if len(rows) == 1 and rows[0].status == status else None

    return check


def subscribe(store: CrmStore, location_id: str, url: str, events: tuple[str, ...] = ()) -> str:
    """Subscribe `url` to the location's events; return the subscription id."""
    with store.sessions() as session:
        sub = create_subscription(session, location_id, url, events)
        session.commit()
    return sub.id


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    """A running receiver shared by this module's tests (each uses its own URLs)."""
    with receiving() as found:
        yield found


def _start(tmp: Path, url: str | None) -> Iterator[CrmServer]:
    settings = make_settings(tmp)
    store = open_store(settings, url=url)
    with running(create_app(settings, store=store, webhook_policy=FAST)) as base:
        yield CrmServer(base, store)
    store.engine.dispose()


@pytest.fixture(scope="module")
def hook_crm_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmServer]:
    """A CRM with fast webhook retries, on SQLite."""
    yield from _start(tmp_path_factory.mktemp("hooks-sqlite"), None)


@pytest.fixture(scope="module")
def hook_crm_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmServer]:
    """A CRM with fast webhook retries, on PostgreSQL."""
    with postgres_database() as url:
        yield from _start(tmp_path_factory.mktemp("hooks-pg"), url)


@pytest.fixture
def hooked(backend: str, request: pytest.FixtureRequest) -> Tenant:
    """A fresh location on this backend's fast-retry CRM."""
    server: CrmServer = request.getfixturevalue(f"hook_crm_{backend}")
    return new_tenant(server)


def create_contact(tenant: Tenant, **fields: object) -> dict[str, object]:
    """Create a contact through the API; return it."""
    with tenant.client() as api:
        answer = api.post("/contacts/", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 201, answer.text
    contact: dict[str, object] = answer.json()["contact"]
    return contact


def test_contact_create_arrives_signed_with_both_published_keys(
    hooked: Tenant, receiver: Receiver
) -> None:
    store = hooked.server.store
    url = receiver.endpoint()
    sub = subscribe(store, hooked.location_id, url)
    contact = create_contact(hooked, firstName="Ada", email="ada@example.com", tags=["pin"])

    (hit,) = eventually(lambda: receiver.hits(url))
    body = hit.json()
    assert body["type"] == "ContactCreate"
    assert body["locationId"] == hooked.location_id
    assert body["id"] == contact["id"]
    assert body["email"] == "ada@example.com"
    assert body["tags"] == ["pin"]
    assert body["dateAdded"] == contact["dateAdded"]
    assert "emailLowerCase" not in body  # not in HighLevel's ContactCreate schema
    assert isinstance(body["timestamp"], str)
    delivered = eventually(settled(store, sub, "delivered"))
    assert body["webhookId"] == delivered.id
    assert delivered.attempts == 1

    with httpx.Client(base_url=hooked.url) as plain:  # no auth: the keys are public
        rsa_pem = plain.get("/webhooks/public-key").text
        ed_pem = plain.get("/webhooks/public-key/ed25519").text
    assert verify_signature(rsa_pem, hit.body, hit.headers[RSA_HEADER])
    assert verify_signature(ed_pem, hit.body, hit.headers[ED25519_HEADER])
    tampered = hit.body.replace(b"ada@example.com", b"eve@example.com")
    assert not verify_signature(rsa_pem, tampered, hit.headers[RSA_HEADER])
    assert not verify_signature(ed_pem, tampered, hit.headers[ED25519_HEADER])
    assert not verify_signature(rsa_pem, hit.body, hit.headers[ED25519_HEADER])


def test_500_then_200_is_delivered_once_after_a_retry(hooked: Tenant, receiver: Receiver) -> None:
    store = hooked.server.store
    url = receiver.endpoint(500)
    sub = subscribe(store, hooked.location_id, url)
    create_contact(hooked, firstName="Retry")

    delivered = eventually(settled(store, sub, "delivered"))
    first, second = receiver.hits(url)
    assert delivered.attempts == 2
    assert first.json()["webhookId"] == second.json()["webhookId"] == delivered.id
    assert len(receiver.hits(url)) == 2


def test_410_fails_at_once_without_retry(hooked: Tenant, receiver: Receiver) -> None:
    store = hooked.server.store
    url = receiver.endpoint(410)
    sub = subscribe(store, hooked.location_id, url)
    create_contact(hooked, firstName="Gone")

    failed = eventually(settled(store, sub, "failed"))
    assert failed.attempts == 1
    assert failed.last_status_code == 410
    assert (failed.last_error or "").startswith("HTTP 410")
    assert len(receiver.hits(url)) == 1


def test_429_waits_at_least_what_retry_after_says(hooked: Tenant, receiver: Receiver) -> None:
    store = hooked.server.store
    url = receiver.endpoint((429, {"Retry-After": "3600"}))
    sub = subscribe(store, hooked.location_id, url)
    before = utcnow()
    create_contact(hooked, firstName="Later")

    def rescheduled() -> WebhookDelivery | None:
        rows = deliveries(store, sub)
        return rows[0] if rows and rows[0].last_status_code == 429 else None

    pending = eventually(rescheduled)
    assert pending.status == "pending"
    assert pending.attempts == 1
    assert pending.next_attempt_at >= before + timedelta(seconds=3600)
    assert len(receiver.hits(url)) == 1


def test_gives_up_after_max_attempts_with_the_last_error(
    hooked: Tenant, receiver: Receiver
) -> None:
    store = hooked.server.store
    url = receiver.endpoint(503, 503, 503, 503)
    sub = subscribe(store, hooked.location_id, url)
    create_contact(hooked, firstName="Never")

    failed = eventually(settled(store, sub, "failed"))
    assert failed.attempts == FAST.max_attempts
    assert (failed.last_error or "").startswith("gave up after 3 attempts: HTTP 503")
    assert len(receiver.hits(url)) == FAST.max_attempts


def test_only_subscribed_events_are_queued(hooked: Tenant, receiver: Receiver) -> None:
    store = hooked.server.store
    contacts_url, tasks_url = receiver.endpoint(), receiver.endpoint()
    contacts_sub = subscribe(store, hooked.location_id, contacts_url, ("ContactCreate",))
    tasks_sub = subscribe(store, hooked.location_id, tasks_url, ("TaskCreate", "NoteCreate"))
    create_contact(hooked, firstName="Filtered")

    eventually(settled(store, contacts_sub, "delivered"))
    assert [h.json()["type"] for h in receiver.hits(contacts_url)] == ["ContactCreate"]
    assert deliveries(store, tasks_sub) == []
    assert receiver.hits(tasks_url) == []


# Dispatchers outside any app, on a database of their own.


@pytest.fixture(scope="module")
def bare_sqlite(tmp_path_factory: pytest.TempPathFactory) -> str:
    """URL of a migrated SQLite CRM store no app serves."""
    url = f"sqlite:///{tmp_path_factory.mktemp('bare') / 'crm.db'}"
    store = open_store(make_settings(tmp_path_factory.mktemp("bare-settings")), url=url)
    store.engine.dispose()
    return url


@pytest.fixture(scope="module")
def bare_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """URL of a migrated PostgreSQL CRM store no app serves."""
    with postgres_database() as url:
        store = open_store(make_settings(tmp_path_factory.mktemp("bare-settings")), url=url)
        store.engine.dispose()
        yield url


@pytest.fixture
def bare(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CrmStore]:
    """A store of this backend that no dispatcher watches but the test's own."""
    url: str = request.getfixturevalue(f"bare_{backend}")
    store = open_store(make_settings(tmp_path), url=url, migrate=False)
    yield store
    store.engine.dispose()


def queue_contacts(store: CrmStore, url: str, count: int) -> str:
    """Create a location subscribed to `url` and queue `count` ContactCreate events."""
    with store.sessions() as session:
        location = admin.create_location(session, "bare")
        session.commit()
    sub = subscribe(store, location.id, url)
    with store.sessions() as session:
        for n in range(count):
            emit(session, location.id, EventType.CONTACT_CREATE, {"id": f"c{n}", "name": "X"})
        session.commit()
    return sub


def run_dispatcher(
    store: CrmStore,
    stop: threading.Event,
    key_dir: Path,
    *,
    poll_interval_s: float = 0.02,
    batch_size: int = 20,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
) -> threading.Thread:
    """Run a dispatcher on its own event loop in a thread, as another process would."""
    keys = load_or_create_keys(key_dir)

    async def main() -> None:
        dispatcher = Dispatcher(
            store,
            keys,
            policy=FAST,
            poll_interval_s=poll_interval_s,
            batch_size=batch_size,
            timeout=timeout,
        )
        async with dispatcher:
            await asyncio.to_thread(stop.wait)

    thread = threading.Thread(target=asyncio.run, args=(main(),), daemon=True)
    thread.start()
    return thread


def test_two_dispatchers_on_one_database_never_deliver_twice(
    bare: CrmStore, receiver: Receiver, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = receiver.endpoint()
    sub = queue_contacts(bare, url, 120)
    db_url: str = request.getfixturevalue(f"bare_{backend}")
    other = open_store(make_settings(tmp_path), url=db_url, migrate=False)  # its own pool
    stop = threading.Event()
    threads = [
        run_dispatcher(store, stop, tmp_path, poll_interval_s=0.01, batch_size=7)
        for store in (bare, other)
    ]
    try:
        eventually(lambda: all(d.status == "delivered" for d in deliveries(bare, sub)))
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=20)
        other.engine.dispose()
    ids = [hit.json()["webhookId"] for hit in receiver.hits(url)]
    assert len(ids) == 120
    assert len(set(ids)) == 120
    assert all(d.attempts == 1 for d in deliveries(bare, sub))


def test_a_receiver_slower_than_the_timeout_is_retried(
    bare: CrmStore, receiver: Receiver, tmp_path: Path
) -> None:
    url = receiver.endpoint((200, 1.0))
    sub = queue_contacts(bare, url, 1)
    stop = threading.Event()
    thread = run_dispatcher(bare, stop, tmp_path, timeout=httpx.Timeout(0.3))
    try:
        delivered = eventually(settled(bare, sub, "delivered"))
    finally:
        stop.set()
        thread.join(timeout=20)
    assert delivered.attempts == 2
    assert len(receiver.hits(url)) == 2
