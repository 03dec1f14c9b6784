"""What the connector logs: one line per request with stable keys, and never a secret or PII."""

from __future__ import annotations

import logging
import re
from urllib.parse import quote

import httpx
import pytest

from leadwire.connectors.contacts.errors import ContactsBadRequestError, ContactsRateLimitedError
from leadwire.connectors.contacts.session import safe_url
from leadwire.connectors.contacts.wire.contacts import NewContact
from tests.connectors.contacts.fakes import (
    APP,
    CONTACT,
    FakeHighLevel,
    budget_headers,
    nest_error,
    ok,
)

EMAIL = "rosa.diaz+pins@example.com"
PHONE = "+14155550123"
LINE = re.compile(
    r"contacts\.request operation=(?P<op>[a-z-]+) method=[A-Z]+ url=\S+ status=\S+ "
    r"duration_ms=\d+ trace_id=\S+ burst_remaining=\S+ daily_remaining=\S+ error=\S+ "
    r"retry_after_s=\S+$"
)


def test_secrets_and_personal_data_never_reach_the_logs(
    highlevel: FakeHighLevel, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    contact = {**CONTACT, "email": EMAIL, "phone": PHONE}
    highlevel.on(
        "GET", "/contacts/search/duplicate", ok({"contact": contact}, headers=budget_headers())
    )
    highlevel.on(
        "POST",
        "/contacts/",
        lambda r: nest_error(400, f"email {EMAIL} and phone {PHONE} are not allowed"),
    )
    highlevel.on(
        "GET",
        f"/contacts/{CONTACT['id']}",
        lambda r: httpx.Response(429, headers={"Retry-After": "3", **budget_headers(0)}),
    )
    highlevel.expired.add("access-0")  # forces a refresh after a 401: tokens on the move
    with highlevel.client(highlevel.tokens(expires_in_s=86_000)) as client:
        found = client.contacts.find_duplicate(email=EMAIL, phone=PHONE)
        assert found is not None
        assert found.email == EMAIL
        with pytest.raises(ContactsBadRequestError):
            client.contacts.create(NewContact(email=EMAIL, phone=PHONE))
        with pytest.raises(ContactsRateLimitedError):
            client.contacts.get(str(CONTACT["id"]))
    assert len(highlevel.token_forms) == 1
    text = caplog.text
    forbidden = [
        "access-0",
        "access-1",
        "refresh-0",
        "refresh-1",
        APP.client_secret,
        EMAIL,
        quote(EMAIL),
        quote(EMAIL, safe=""),
        PHONE,
        quote(PHONE, safe=""),
        "5550123",
    ]
    for secret in forbidden:
        assert secret not in text, secret
    # httpx's own request lines were there (and masked), not merely silent.
    assert "email=%2A%2A%2A" in text or "email=***" in text
    lines = [r.getMessage() for r in caplog.records if r.name.endswith("contacts.session")]
    assert [LINE.match(line).group("op") for line in lines] == [  # type: ignore[union-attr]
        "get-duplicate-contact",
        "create-contact",
        "get-contact",
    ]
    assert "status=429" in lines[-1]
    assert "retry_after_s=3.0" in lines[-1]
    assert "burst_remaining=0" in lines[-1]


def test_safe_url_masks_personal_and_secret_query_values() -> None:
    url = (
        "https://user:pw@services.example.test/contacts/search/duplicate"
        f"?locationId=L1&email={quote(EMAIL)}&number={quote(PHONE)}&access_token=abc"
    )
    masked = safe_url(url)
    assert "locationId=L1" in masked
    for secret in ("pw", "abc", "rosa", "4155550123"):
        assert secret not in masked
