"""OAuth through the connector against the real embedded CRM: the PKCE code flow over HTTP,
then refreshes by the client, rotation handed to the callback, and the retired token refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.errors import ContactsAuthError
from leadwire.connectors.contacts.oauth import (
    ContactsEndpoints,
    OAuthApp,
    TokenSet,
    authorize_url,
    exchange_code,
    refresh_tokens,
)
from leadwire.connectors.contacts.wire.contacts import NewContact
from tests.crm.conftest import CrmServer, Tenant, new_tenant
from tests.crm.test_oauth import REDIRECT, App, code_of, pkce, register


def _connect(tenant: Tenant) -> tuple[OAuthApp, ContactsEndpoints, TokenSet]:
    """Register an app, consent in the 'browser', exchange the code through the connector."""
    registered: App = register(tenant)
    app = OAuthApp(registered.id, registered.secret)
    endpoints = ContactsEndpoints.embedded(tenant.url)
    verifier, challenge = pkce()
    page = authorize_url(endpoints, app.client_id, REDIRECT, "st-123", challenge)
    consent = httpx.get(page, timeout=10)
    assert consent.status_code == 200, consent.text
    answer = httpx.post(
        str(consent.url),
        data={"locationId": tenant.location_id, "decision": "approve"},
        timeout=10,
    )
    with httpx.Client(timeout=10) as http:
        tokens = exchange_code(http, endpoints, app, code_of(answer), REDIRECT, verifier)
    assert tokens.location_id == tenant.location_id
    assert tokens.scopes == {"contacts.readonly", "contacts.write"}
    assert tokens.refresh_token
    return app, endpoints, tokens


@pytest.fixture
def tenant(crm_server: CrmServer) -> Tenant:
    return new_tenant(crm_server)


def test_refresh_near_expiry_rotates_and_retires_the_old_token(tenant: Tenant) -> None:
    app, endpoints, tokens = _connect(tenant)
    saved: list[TokenSet] = []
    # Our clock says the token is about to expire (the CRM's says a day is left).
    expiring = TokenSet(
        access_token=tokens.access_token,
        access_expires_at=datetime.now(UTC) + timedelta(seconds=30),
        refresh_token=tokens.refresh_token,
        location_id=tokens.location_id,
    )
    with ContactsClient.with_oauth(
        expiring, app, on_tokens=saved.append, endpoints=endpoints
    ) as client:
        made = client.contacts.create(NewContact(first_name="Olga"))
        assert client.contacts.get(made.id).first_name == "Olga"
        assert client.tokens == saved[-1]
    (rotated,) = saved
    assert rotated.access_token != tokens.access_token
    assert rotated.refresh_token not in (None, tokens.refresh_token)
    assert rotated.location_id == tenant.location_id
    # The retired refresh token is refused, and the connector says the user must reconnect.
    with httpx.Client(timeout=10) as http, pytest.raises(ContactsAuthError) as caught:
        refresh_tokens(http, endpoints, app, tokens)
    assert "re-authorisation is needed" in str(caught.value)
    assert caught.value.status_code == 400


def test_a_401_refreshes_once_then_the_new_pair_works(tenant: Tenant) -> None:
    app, endpoints, tokens = _connect(tenant)
    saved: list[TokenSet] = []
    unknown = TokenSet(
        access_token="not-a-token-the-crm-knows",
        access_expires_at=tokens.access_expires_at,
        refresh_token=tokens.refresh_token,
        location_id=tokens.location_id,
    )
    with ContactsClient.with_oauth(unknown, app, on_tokens=saved.append, endpoints=endpoints) as c:
        contact = c.contacts.upsert(NewContact(email="olga@example.com")).contact
    assert len(saved) == 1
    with ContactsClient.with_oauth(saved[0], app, on_tokens=saved.append, endpoints=endpoints) as c:
        assert c.contacts.get(contact.id).email == "olga@example.com"
    assert len(saved) == 1  # the saved pair worked without another refresh
