"""OAuth of the Contacts connector against a scripted HighLevel: refresh, rotation, races."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta

import httpx
import pytest

from leadwire.connectors.contacts.auth import HighLevelOAuth, StaticTokenAuth
from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.errors import ContactsAuthError, ContactsUnavailableError
from leadwire.connectors.contacts.oauth import TokenSet
from tests.connectors.contacts.fakes import (
    APP,
    CONTACT,
    ENDPOINTS,
    LOCATION,
    FakeHighLevel,
    nest_error,
    ok,
)

CONTACT_PATH = f"/contacts/{CONTACT['id']}"


@pytest.fixture(autouse=True)
def _contact_route(highlevel: FakeHighLevel) -> None:
    highlevel.on("GET", CONTACT_PATH, ok({"contact": CONTACT}))


def test_token_near_expiry_is_refreshed_before_the_request(highlevel: FakeHighLevel) -> None:
    saved: list[TokenSet] = []
    with highlevel.client(highlevel.tokens(expires_in_s=60), on_tokens=saved.append) as client:
        assert client.contacts.get(str(CONTACT["id"])).first_name == "Rosa"
    assert [form["grant_type"] for form in highlevel.token_forms] == ["refresh_token"]
    assert highlevel.token_forms[0] == {
        "client_id": APP.client_id,
        "client_secret": APP.client_secret,
        "user_type": "Location",
        "grant_type": "refresh_token",
        "refresh_token": "refresh-0",
    }
    # Only one API request: refreshed first, so no 401 was ever provoked.
    assert [r.headers["Authorization"] for r in highlevel.api_requests()] == ["Bearer access-1"]
    assert len(saved) == 1


def test_rotation_reaches_the_callback_with_both_new_tokens(highlevel: FakeHighLevel) -> None:
    saved: list[TokenSet] = []
    with highlevel.client(highlevel.tokens(expires_in_s=10), on_tokens=saved.append) as client:
        client.contacts.get(str(CONTACT["id"]))
        assert client.tokens == saved[0]
    (tokens,) = saved
    assert tokens.access_token == "access-1"
    assert tokens.refresh_token == "refresh-1"
    assert tokens.access_expires_at == highlevel.clock() + timedelta(seconds=86_399)
    assert tokens.location_id == LOCATION
    assert tokens.scopes == {"contacts.readonly", "contacts.write"}


def test_a_401_refreshes_once_and_resends(highlevel: FakeHighLevel) -> None:
    saved: list[TokenSet] = []
    highlevel.expired.add("access-0")  # expired early: our clock still thinks it is good
    with highlevel.client(on_tokens=saved.append) as client:
        assert client.contacts.get(str(CONTACT["id"])).id == CONTACT["id"]
    assert [r.headers["Authorization"] for r in highlevel.api_requests()] == [
        "Bearer access-0",
        "Bearer access-1",
    ]
    assert len(highlevel.token_forms) == 1
    assert [t.refresh_token for t in saved] == ["refresh-1"]


def test_a_second_401_is_final(highlevel: FakeHighLevel) -> None:
    highlevel.on(
        "GET", CONTACT_PATH, lambda r: nest_error(401, "Invalid JWT", error="Unauthorized")
    )
    with highlevel.client() as client, pytest.raises(ContactsAuthError) as caught:
        client.contacts.get(str(CONTACT["id"]))
    assert "even after refreshing" in str(caught.value)
    assert len(highlevel.api_requests()) == 2
    assert len(highlevel.token_forms) == 1


def test_a_401_for_a_missing_scope_is_not_refreshed(highlevel: FakeHighLevel) -> None:
    message = "The token is not authorized for this scope."
    highlevel.on("GET", CONTACT_PATH, lambda r: nest_error(401, message, error="Unauthorized"))
    with highlevel.client() as client, pytest.raises(ContactsAuthError, match="scope"):
        client.contacts.get(str(CONTACT["id"]))
    assert highlevel.token_forms == []
    assert len(highlevel.api_requests()) == 1


def test_a_spent_refresh_token_asks_for_reauthorisation(highlevel: FakeHighLevel) -> None:
    tokens = highlevel.tokens(expires_in_s=0)
    highlevel.generation = 3  # refresh-0 was used by someone else long ago
    with highlevel.client(tokens) as client, pytest.raises(ContactsAuthError) as caught:
        client.contacts.get(str(CONTACT["id"]))
    assert "re-authorisation is needed" in str(caught.value)
    assert "already used" in str(caught.value)
    assert highlevel.api_requests() == []


def test_a_failing_token_endpoint_near_expiry_keeps_the_valid_token(
    highlevel: FakeHighLevel,
) -> None:
    highlevel.token_answer = lambda: httpx.Response(503, json={"message": "down"})
    saved: list[TokenSet] = []
    with highlevel.client(highlevel.tokens(expires_in_s=60), on_tokens=saved.append) as client:
        assert client.contacts.get(str(CONTACT["id"])).id == CONTACT["id"]
        # Once the token has expired there is nothing to fall back on: the failure is retryable.
        highlevel.clock.advance(61)
        with pytest.raises(ContactsUnavailableError):
            client.contacts.get(str(CONTACT["id"]))
    assert saved == []
    assert len(highlevel.token_forms) == 2


def test_concurrent_requests_refresh_once(highlevel: FakeHighLevel) -> None:
    highlevel.token_delay_s = 0.05
    saved: list[TokenSet] = []
    client = highlevel.client(highlevel.tokens(expires_in_s=1), on_tokens=saved.append)
    with client, ThreadPoolExecutor(max_workers=8) as pool:
        found = list(pool.map(lambda _: client.contacts.get(str(CONTACT["id"])), range(16)))
    assert len(found) == 16
    assert len(highlevel.token_forms) == 1
    assert len(saved) == 1
    assert {r.headers["Authorization"] for r in highlevel.api_requests()} == {"Bearer access-1"}


def test_processes_sharing_a_store_refresh_once(highlevel: FakeHighLevel) -> None:
    """Two auths (two worker processes) refresh under one store lock: the second adopts."""
    store: dict[str, TokenSet] = {"tokens": highlevel.tokens(expires_in_s=1)}
    row_lock = threading.Lock()

    @contextmanager
    def hold() -> Iterator[TokenSet | None]:
        with row_lock:
            yield store["tokens"]

    def save(tokens: TokenSet) -> None:
        store["tokens"] = tokens

    def worker() -> ContactsClient:
        auth = HighLevelOAuth(
            store["tokens"],
            APP,
            on_tokens=save,
            endpoints=ENDPOINTS,
            hold_tokens=hold,
            clock=highlevel.clock,
        )
        return ContactsClient(
            auth, LOCATION, endpoints=ENDPOINTS, transport=httpx.MockTransport(highlevel)
        )

    first, second = worker(), worker()
    with first, second:
        first.contacts.get(str(CONTACT["id"]))
        second.contacts.get(str(CONTACT["id"]))
        assert second.tokens == first.tokens == store["tokens"]
    assert len(highlevel.token_forms) == 1


def test_static_token_is_sent_as_is_and_never_refreshed(highlevel: FakeHighLevel) -> None:
    with highlevel.keyed_client() as client:
        client.contacts.get(str(CONTACT["id"]))
        highlevel.generation = 9  # the key was revoked
        with pytest.raises(ContactsAuthError):
            client.contacts.get(str(CONTACT["id"]))
    assert highlevel.token_forms == []
    assert "access" not in repr(StaticTokenAuth("pit-secret-123"))
    assert "secret" not in repr(StaticTokenAuth("pit-secret-123"))


def test_reprs_hide_the_tokens(highlevel: FakeHighLevel) -> None:
    with highlevel.client() as client:
        text = repr(client.auth) + repr(client.tokens)
    assert "access-0" not in text
    assert "refresh-0" not in text
    assert APP.client_secret not in text
