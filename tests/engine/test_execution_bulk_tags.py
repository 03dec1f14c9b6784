"""Add-tags calls merged into the CRM's bulk tag update, against the embedded CRM over a socket.

A gate in the client's transport holds the first tags request in flight until the other calls
are seen waiting for it: what a worker under load does by chance, pinned. The transport also
logs every request, so the tests count what reached the CRM.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from leadwire.connectors.contacts.errors import ContactsNotFoundError
from leadwire.crm.models import ContactTag
from leadwire.engine.connections.model import ConnectionSecrets, ContactsConfig
from leadwire.engine.connections.records import add_connection
from leadwire.engine.execution import CrmClients
from leadwire.engine.execution.tag_batches import SendAloneError
from leadwire.engine.planning import CrmCall
from leadwire.engine.runtime import StepResult
from leadwire.engine.secrets import open_keyring
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from tests.engine.conftest import RuntimeTenant, wait_until

BULK_PATH = "/contacts/bulk/tags/update/add"


@pytest.fixture
def backend() -> str:
    """The app store only holds the connection here: SQLite is enough."""
    return "sqlite"


class Gate(httpx.BaseTransport):
    """A real HTTP transport that logs each request and can hold the first tags request."""

    def __init__(self, *, bulk_status: int | None = None) -> None:
        self._inner = httpx.HTTPTransport()
        self._lock = threading.Lock()
        self._bulk_status = bulk_status
        self.requests: list[tuple[str, str]] = []
        self.armed = False
        self.reached = threading.Event()
        self.opened = threading.Event()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        with self._lock:
            self.requests.append((request.method, path))
            hold = self.armed and path.endswith("/tags")
            self.armed = self.armed and not hold
        if hold:
            self.reached.set()
            assert self.opened.wait(10), "the test never opened the gate"
        if self._bulk_status is not None and path == BULK_PATH:  # a CRM that refuses bulk
            status = self._bulk_status
            return httpx.Response(status, json={"statusCode": status, "message": "refused"})
        return self._inner.handle_request(request)

    def tag_requests(self) -> list[str]:
        with self._lock:
            return [p for m, p in self.requests if m == "POST" and p.endswith(("/tags", "/add"))]

    def close(self) -> None:
        self._inner.close()


@dataclass
class Rig:
    """A CRM client whose requests go through `gate`, on a connection to the test's location."""

    crm: CrmClients
    connection_id: str
    gate: Gate
    tenant: RuntimeTenant
    pool: ThreadPoolExecutor

    def contacts(self, n: int) -> list[str]:
        """Create `n` contacts; return their ids."""
        ids = []
        for _ in range(n):
            email = f"{uuid.uuid4().hex[:12]}@example.com"
            body = {"locationId": self.tenant.location_id, "email": email}
            upsert = _call("upsert-contact", "/contacts/upsert", body, gives_contact_id=True)
            ids.append(self.crm.send(self.connection_id, upsert, {}).outputs["contact_id"])
        return ids

    def tag(self, contact_id: str, tags: list[str]) -> StepResult:
        call = _call("add-tags", "/contacts/{contact_id}/tags", {"tags": tags})
        return self.crm.send(self.connection_id, call, {"contact_id": contact_id})

    def meet(self, contacts: list[str], tags: list[str]) -> list[Future[StepResult]]:
        """Tag `contacts[0]`, held in flight until every other call waits for it (or, with no
        bulk to wait for, has sent its own request); then let it go. The others start one
        after the other, so the first of them is the one that sends for all."""
        gate = self.gate
        gate.reached.clear()
        gate.opened.clear()
        before = len(gate.tag_requests())
        gate.armed = True
        futures = [self.pool.submit(self.tag, contacts[0], tags)]
        assert gate.reached.wait(10)
        for contact in contacts[1:]:
            futures.append(self.pool.submit(self.tag, contact, tags))
            wait_until(
                lambda: (
                    self.crm.batches.waiting() + len(gate.tag_requests()) - before >= len(futures)
                ),
                10,
            )
        gate.opened.set()
        return futures

    def tags_of(self, contact_ids: list[str]) -> dict[str, set[str]]:
        """Return the tags the CRM holds for each contact."""
        found: dict[str, set[str]] = {c: set() for c in contact_ids}
        with self.tenant.store.read_sessions() as session:
            rows = session.execute(
                select(ContactTag.contact_id, ContactTag.tag).where(
                    ContactTag.contact_id.in_(contact_ids)
                )
            )
            for contact_id, tag in rows:
                found[contact_id].add(tag)
        return found


def _call(operation_id: str, path: str, body: object, **extra: object) -> CrmCall:
    return CrmCall.model_validate(
        {
            "id": operation_id,
            "step_id": operation_id,
            "idempotency_key": f"lw1-test-{uuid.uuid4().hex}",
            "operation_id": operation_id,
            "method": "POST",
            "path": path,
            "body": body,
            **extra,
        }
    )


@pytest.fixture
def rig(
    app_store: AppStore, app_settings: Settings, runtime_tenant: RuntimeTenant
) -> Iterator[Callable[..., Rig]]:
    """Make the test's rig: `bulk_status` is what the CRM answers every bulk request (None: the
    embedded CRM's own answer), `bulk` the connection's setting."""
    made: list[Rig] = []
    ring = open_keyring(app_settings)

    def make(*, bulk_status: int | None = None, bulk: bool = True) -> Rig:
        config = ContactsConfig(
            base_url=runtime_tenant.direct_url,
            location_id=runtime_tenant.location_id,
            idempotency_keys=True,
            bulk_tags=bulk,
        )
        with app_store.sessions() as session:
            connection = add_connection(
                session,
                ring,
                name="crm",
                config=config,
                values=ConnectionSecrets(api_key=runtime_tenant.key),
            )
            session.commit()
        gate = Gate(bulk_status=bulk_status)
        crm = CrmClients(app_store, ring, transport=gate)
        made.append(Rig(crm, connection.id, gate, runtime_tenant, ThreadPoolExecutor(8)))
        return made[-1]

    yield make
    for each in made:
        each.pool.shutdown()
        each.crm.close()


def test_calls_made_together_go_as_one_bulk_request(rig: Callable[..., Rig]) -> None:
    r = rig()
    contacts = r.contacts(6)
    tags = ["hot", f"batch-{uuid.uuid4().hex[:8]}"]
    results = [f.result(10) for f in r.meet(contacts, tags)]
    # Six calls, two requests: the first alone, the five that waited for it in one.
    assert r.gate.tag_requests() == [f"/contacts/{contacts[0]}/tags", BULK_PATH]
    assert sorted(x.requests for x in results) == [0, 0, 0, 0, 1, 1]
    assert all("bulk request for 5 contacts" in x.summary for x in results[1:])
    assert r.tags_of(contacts) == {c: set(tags) for c in contacts}
    # Idle again: a lone call goes alone, at once.
    r.tag(contacts[0], ["warm"])
    assert r.gate.tag_requests()[-1] == f"/contacts/{contacts[0]}/tags"
    assert r.crm.batches.lanes() == 0


@pytest.mark.parametrize("gone", [2, 1], ids=["a-member", "the-sender"])
def test_a_contact_the_bulk_request_could_not_tag_gets_its_own_answer(
    rig: Callable[..., Rig], gone: int
) -> None:
    r = rig()
    contacts = r.contacts(4)
    client, _ = r.crm.get(r.connection_id)
    assert client.contacts.delete(contacts[gone])  # gone before its tags step
    futures = r.meet(contacts, ["hot"])
    # The CRM's own answer for that contact, as if no bulk request had been made.
    assert isinstance(futures[gone].exception(10), ContactsNotFoundError)
    # A member's own request goes on its own slot; the sender's, on the slot of contacts[2],
    # which the bulk request carried: that call holds it as if it had made the request.
    others = [f.result(10).requests for i, f in enumerate(futures) if i != gone]
    assert others == [1, 1, 0]
    assert r.gate.tag_requests() == [
        f"/contacts/{contacts[0]}/tags",
        BULK_PATH,
        f"/contacts/{contacts[gone]}/tags",
    ]
    tagged = r.tags_of([c for i, c in enumerate(contacts) if i != gone])
    assert all(tags == {"hot"} for tags in tagged.values())


@pytest.mark.parametrize("status", [401, 403, 404, 405])
def test_a_crm_refusing_bulk_requests_gets_one_request_per_contact(
    rig: Callable[..., Rig], caplog: pytest.LogCaptureFixture, status: int
) -> None:
    """Credentials refused, no such endpoint: learnt for the connection."""
    r = rig(bulk_status=status)
    contacts = r.contacts(3)
    with caplog.at_level(logging.WARNING):
        futures = r.meet(contacts, ["a"])
        wait(futures, 10)
    assert "crm.bulk_tags_unavailable" in caplog.text
    assert [futures[0].result(10).requests, futures[2].result(10).requests] == [1, 1]
    # The sender spent its slot on the bulk request: its run retries, and the call goes alone.
    assert isinstance(futures[1].exception(10), SendAloneError)
    assert r.tag(contacts[1], ["a"]).requests == 1
    assert r.tags_of(contacts) == {c: {"a"} for c in contacts}
    # Learnt for the connection: calls made together no longer try the bulk request.
    before = len(r.gate.tag_requests())
    results = [f.result(10) for f in r.meet(contacts, ["b"])]
    assert BULK_PATH not in r.gate.tag_requests()[before:]
    assert [x.requests for x in results] == [1, 1, 1]


@pytest.mark.parametrize("status", [400, 422])
def test_a_bulk_request_refused_for_its_body_is_only_that_batchs(
    rig: Callable[..., Rig], status: int
) -> None:
    """A tag a lead's answer made too long, say: each call gets the CRM's answer on its own,
    and bulk requests of those tags are not tried again (other tags' are)."""
    r = rig(bulk_status=status)
    contacts = r.contacts(3)
    for tags, tried in ((["a"], 1), (["b"], 1), (["a"], 0)):
        before = len(r.gate.tag_requests())
        futures = r.meet(contacts, tags)
        assert [futures[0].result(10).requests, futures[2].result(10).requests] == [1, 1]
        assert r.gate.tag_requests()[before:].count(BULK_PATH) == tried
        if tried:
            # The sender's slot went on the bulk request, and nobody's was free to lend.
            assert isinstance(futures[1].exception(10), SendAloneError)
            assert r.tag(contacts[1], tags).requests == 1  # the retry goes alone
        else:
            assert futures[1].result(10).requests == 1
    assert r.tags_of(contacts) == {c: {"a", "b"} for c in contacts}


def test_a_call_naming_another_contact_is_never_merged(rig: Callable[..., Rig]) -> None:
    """A generic step may tag some other contact than the run's: it goes as planned."""
    r = rig()
    contacts = r.contacts(3)
    other = r.contacts(1)[0]
    r.gate.armed = True
    first = r.pool.submit(r.tag, contacts[0], ["x"])
    assert r.gate.reached.wait(10)
    call = _call("add-tags", f"/contacts/{other}/tags", {"tags": ["x"]})
    alone = r.crm.send(r.connection_id, call, {"contact_id": contacts[1]})  # not held back
    assert alone.requests == 1
    r.gate.opened.set()
    assert first.result(10).requests == 1
    assert r.tags_of([other, contacts[1]]) == {other: {"x"}, contacts[1]: set()}


def test_a_connection_with_bulk_tags_off_never_merges(rig: Callable[..., Rig]) -> None:
    r = rig(bulk=False)
    contacts = r.contacts(3)
    results = [f.result(10) for f in r.meet(contacts, ["c"])]
    assert BULK_PATH not in r.gate.tag_requests()
    assert [x.requests for x in results] == [1, 1, 1]
    assert r.tags_of(contacts) == {c: {"c"} for c in contacts}
