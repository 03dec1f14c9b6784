"""The connector against the real embedded CRM when things go wrong: lost answers on a CRM
without Idempotency-Key (as HighLevel), and a CRM out of rate budget."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from leadwire.connectors.contacts.errors import ContactsRateLimitedError, ContactsUnavailableError
from leadwire.connectors.contacts.ratelimits import RateBudget
from leadwire.connectors.contacts.wire.contacts import NewContact
from leadwire.connectors.contacts.wire.notes import NewNote
from leadwire.connectors.contacts.wire.tasks import NewTask
from leadwire.crm.app import create_app
from leadwire.crm.store import open_store
from leadwire.errors import RateLimitedError
from tests.conftest import make_settings
from tests.connectors.contacts.seeds import client_of
from tests.crm.conftest import CrmServer, new_tenant
from tests.servers import running

DUE = datetime(2026, 1, 9, 17, 30, tzinfo=UTC)
BURST = 3
INTERVAL_MS = 600_000  # long enough that no window closes during a test


class HighLevelLike(httpx.BaseTransport):
    """Real HTTP, minus our Idempotency-Key extension; loses the answer of the first create."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.lose_answer = True
        self.creates = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.headers.pop("Idempotency-Key", None)
        response = self.inner.handle_request(request)
        if request.method == "POST" and request.url.path.endswith(("/tasks", "/notes")):
            self.creates += 1
            if self.lose_answer:
                self.lose_answer = False
                response.read()
                response.close()
                raise httpx.ReadTimeout("the answer was lost", request=request)
        return response

    def close(self) -> None:
        self.inner.close()


@pytest.mark.parametrize("kind", ["task", "note"])
def test_ensure_creates_once_when_the_first_answer_is_lost(
    crm_server: CrmServer, kind: str
) -> None:
    tenant = new_tenant(crm_server)
    transport = HighLevelLike()
    marker = f"lead-5:v1:{kind}"
    with client_of(tenant, transport=transport) as client:
        contact = client.contacts.create(NewContact(first_name="Rosa"))

        def attempt() -> str:
            if kind == "task":
                task = client.ensure_task(contact.id, NewTask(title="Call", due_date=DUE), marker)
                assert task.created is False
                return task.item.id
            note = client.ensure_note(contact.id, NewNote(body="Hi"), marker)
            assert note.created is False
            return note.item.id

        with pytest.raises(ContactsUnavailableError):
            attempt()  # created on the CRM, but we never heard
        first = attempt()
        assert attempt() == first
        listed = client.tasks.list(contact.id) if kind == "task" else client.notes.list(contact.id)
    assert [item.id for item in listed] == [first]
    assert listed[0].body is not None
    assert listed[0].body.endswith(f"[leadwire:{marker}]")
    assert transport.creates == 1


@pytest.fixture
def limited(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[CrmServer]:
    """A CRM of its own allowing 3 requests per window."""
    url = request.getfixturevalue("pg_url") if backend == "postgres" else None
    config = make_settings(tmp_path, crm_rate_burst=BURST, crm_rate_interval_ms=INTERVAL_MS)
    store = open_store(config, url=url)
    with running(create_app(config, store=store)) as base:
        yield CrmServer(base, store)
    store.engine.dispose()


def test_a_429_says_how_long_to_wait(limited: CrmServer) -> None:
    tenant = new_tenant(limited)
    seen: list[RateBudget] = []
    with client_of(tenant, on_budget=seen.append) as client:
        for _ in range(BURST):
            assert client.contacts.find_duplicate(email="nobody@example.com") is None
        with pytest.raises(ContactsRateLimitedError) as caught:
            client.contacts.find_duplicate(email="nobody@example.com")
    error = caught.value
    assert isinstance(error, RateLimitedError)
    assert error.retry_after_s is not None
    assert 0 < error.retry_after_s <= INTERVAL_MS / 1000
    assert error.status_code == 429
    assert [b.burst_remaining for b in seen] == [2, 1, 0, 0]
    assert {(b.burst_limit, b.interval_ms) for b in seen} == {(BURST, INTERVAL_MS)}
    assert error.budget == seen[-1]
