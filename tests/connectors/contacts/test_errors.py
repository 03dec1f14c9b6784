"""How the connector classifies answers, reads the rate budget and computes waits."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.errors import (
    ContactsAuthError,
    ContactsBadRequestError,
    ContactsNotFoundError,
    ContactsRateLimitedError,
    ContactsUnavailableError,
    DuplicateContactError,
)
from leadwire.connectors.contacts.ratelimits import RateBudget, read_budget, retry_after_s
from leadwire.connectors.contacts.wire.contacts import ContactUpdate, NewContact
from leadwire.errors import BadRequestError, FatalError, RateLimitedError, RetryableError
from tests.connectors.contacts.fakes import (
    CONTACT,
    LOCATION,
    START,
    FakeHighLevel,
    budget_headers,
    nest_error,
    ok,
)

GET = f"/contacts/{CONTACT['id']}"


def _get(highlevel: FakeHighLevel) -> None:
    with highlevel.keyed_client() as client:
        client.contacts.get(str(CONTACT["id"]))


def test_every_request_carries_the_version_header(highlevel: FakeHighLevel) -> None:
    highlevel.on("GET", GET, ok({"contact": CONTACT}))
    with highlevel.client(highlevel.tokens(expires_in_s=1)) as client:
        client.contacts.get(str(CONTACT["id"]))
    api = highlevel.api_requests()
    assert [r.headers.get("Version") for r in api] == ["2021-07-28"]
    assert api[0].headers["Accept"] == "application/json"


def test_every_response_states_its_budget(highlevel: FakeHighLevel) -> None:
    budgets: list[RateBudget] = []
    highlevel.on("GET", GET, ok({"contact": CONTACT}, headers=budget_headers(41, 1234)))
    with highlevel.keyed_client(on_budget=budgets.append) as client:
        client.contacts.get(str(CONTACT["id"]))
        assert client.last_budget == budgets[0]
    assert budgets == [
        RateBudget(
            observed_at=START,
            daily_limit=200_000,
            daily_remaining=1234,
            interval_ms=10_000,
            burst_limit=100,
            burst_remaining=41,
        )
    ]
    assert budgets[0].interval_s == 10.0


def test_error_responses_state_their_budget_too(highlevel: FakeHighLevel) -> None:
    budgets: list[RateBudget] = []
    highlevel.on("GET", GET, lambda r: httpx.Response(404, headers=budget_headers(7)))
    client = highlevel.keyed_client(on_budget=budgets.append)
    with client, pytest.raises(ContactsNotFoundError):
        client.contacts.get(str(CONTACT["id"]))
    assert [b.burst_remaining for b in budgets] == [7]


def test_a_broken_budget_observer_does_not_fail_the_call(highlevel: FakeHighLevel) -> None:
    def broken(budget: RateBudget) -> None:
        raise RuntimeError("observer bug")

    highlevel.on("GET", GET, ok({"contact": CONTACT}, headers=budget_headers()))
    with highlevel.keyed_client(on_budget=broken) as client:
        assert client.contacts.get(str(CONTACT["id"])).id == CONTACT["id"]


def test_garbled_or_missing_headers_are_none() -> None:
    assert read_budget({"Content-Type": "application/json"}, START) is None
    budget = read_budget({"X-RateLimit-Max": "100", "X-RateLimit-Remaining": "lots"}, START)
    assert budget == RateBudget(observed_at=START, burst_limit=100)


def test_429_with_retry_after_seconds(highlevel: FakeHighLevel) -> None:
    headers = {"Retry-After": "7", **budget_headers(0)}
    body = {"statusCode": 429, "message": "Too Many Requests"}
    highlevel.on("GET", GET, lambda r: httpx.Response(429, json=body, headers=headers))
    with pytest.raises(ContactsRateLimitedError) as caught:
        _get(highlevel)
    assert isinstance(caught.value, RateLimitedError)
    assert caught.value.retry_after_s == 7.0
    assert caught.value.budget is not None
    assert caught.value.budget.is_burst_exhausted


def test_429_with_retry_after_http_date(highlevel: FakeHighLevel) -> None:
    when = format_datetime(START + timedelta(seconds=90), usegmt=True)
    highlevel.on("GET", GET, lambda r: httpx.Response(429, headers={"Retry-After": when}))
    with pytest.raises(ContactsRateLimitedError) as caught:
        _get(highlevel)
    assert caught.value.retry_after_s == 90.0


def test_429_without_retry_after_waits_one_interval(highlevel: FakeHighLevel) -> None:
    highlevel.on("GET", GET, lambda r: httpx.Response(429, headers=budget_headers(0)))
    with pytest.raises(ContactsRateLimitedError) as caught:
        _get(highlevel)
    assert caught.value.retry_after_s == 10.0


def test_a_spent_daily_quota_waits_until_the_utc_day_turns() -> None:
    now = datetime(2025, 12, 11, 21, 30, tzinfo=UTC)
    budget = read_budget(budget_headers(50, 0), now)
    assert retry_after_s({}, budget, now) == 2.5 * 3600


@given(st.integers(min_value=0, max_value=10**9))
def test_retry_after_is_never_negative_nor_huge(seconds: int) -> None:
    wait = retry_after_s({"Retry-After": str(seconds)}, None, START)
    assert wait is not None
    assert 0 <= wait <= 2 * 86_400
    past = format_datetime(START - timedelta(seconds=seconds % 10_000), usegmt=True)
    assert retry_after_s({"retry-after": past}, None, START) == 0.0


def test_duplicate_400_is_recognised(highlevel: FakeHighLevel) -> None:
    meta = {"contactId": "K" * 20, "contactName": "rosa", "matchingField": "email"}
    highlevel.on(
        "POST",
        "/contacts/",
        lambda r: nest_error(400, "This location does not allow duplicated contacts.", meta=meta),
    )
    with highlevel.keyed_client() as client, pytest.raises(DuplicateContactError) as caught:
        client.contacts.create(NewContact(email="rosa@example.com"))
    error = caught.value
    assert isinstance(error, BadRequestError)
    assert (error.contact_id, error.matching_field) == ("K" * 20, "email")
    assert error.status_code == 400
    assert error.trace_id == "trace-1"
    assert "rosa" not in str(error)


def test_422_keeps_its_message_list(highlevel: FakeHighLevel) -> None:
    messages = ["property gender should not exist", "email must be an email"]
    highlevel.on("PUT", GET, lambda r: nest_error(422, messages, error="Unprocessable Entity"))
    with highlevel.keyed_client() as client, pytest.raises(ContactsBadRequestError) as caught:
        client.contacts.update(str(CONTACT["id"]), ContactUpdate(first_name="R"))
    assert caught.value.message == messages
    assert caught.value.status_code == 422
    assert "property gender should not exist; email must be an email" in str(caught.value)


@pytest.mark.parametrize(
    ("answer", "kind"),
    [
        (nest_error(400, "Contact with id seD4PfOuKoVMLkEZqohJ not found"), ContactsNotFoundError),
        (nest_error(404, "Contact with id x not found"), ContactsNotFoundError),
        (nest_error(403, "The token does not have access to this location."), ContactsAuthError),
        (nest_error(400, "Bad Request"), ContactsBadRequestError),
        (httpx.Response(502, text="<html>bad gateway</html>"), ContactsUnavailableError),
        (httpx.Response(408), ContactsUnavailableError),
    ],
)
def test_statuses_map_to_types(
    highlevel: FakeHighLevel, answer: httpx.Response, kind: type[Exception]
) -> None:
    highlevel.on("GET", GET, lambda r: answer)
    with pytest.raises(kind):
        _get(highlevel)


def test_timeouts_and_refused_connections_are_retryable() -> None:
    def boom(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("slow", request=request)

    client = ContactsClient.with_token("pit-1", LOCATION, transport=httpx.MockTransport(boom))
    with client, pytest.raises(ContactsUnavailableError) as caught:
        client.contacts.get("abc")
    assert isinstance(caught.value, RetryableError)
    assert "did not answer in time" in str(caught.value)


def test_errors_survive_pickling() -> None:
    errors = [
        DuplicateContactError("dup", contact_id="K" * 20, matching_field="phone", status_code=400),
        ContactsRateLimitedError(
            "slow down", retry_after_s=3.0, budget=RateBudget(observed_at=START, burst_limit=9)
        ),
        ContactsBadRequestError("bad", message=["a", "b"], trace_id="t", status_code=422),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own bytes
        assert type(copy) is type(error)
        assert copy.__dict__ == error.__dict__
        assert str(copy) == str(error)
    assert isinstance(errors[0], FatalError)


def test_personal_data_in_messages_is_scrubbed(highlevel: FakeHighLevel) -> None:
    said = "email rosa@example.com or phone +1 415 555 0123 is taken"
    highlevel.on("GET", GET, lambda r: nest_error(400, said))
    with pytest.raises(ContactsBadRequestError) as caught:
        _get(highlevel)
    text = str(caught.value) + str(caught.value.message)
    assert "rosa@example.com" not in text
    assert "555" not in text
