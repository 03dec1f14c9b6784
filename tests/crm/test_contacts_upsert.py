"""`POST /contacts/upsert`: HighLevel's matching rules, tags, idempotency — on both backends."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from leadwire.crm.models import Location
from tests.crm.conftest import CrmServer, Tenant, new_tenant


def upsert(api: httpx.Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    answer = api.post("/contacts/upsert", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def set_priority(tenant: Tenant, order: list[str]) -> None:
    with tenant.server.store.sessions() as session:
        session.execute(
            update(Location)
            .where(Location.id == tenant.location_id)
            .values(duplicate_priority=order)
        )
        session.commit()


def all_contacts(api: httpx.Client, tenant: Tenant) -> list[dict[str, Any]]:
    answer = api.get("/contacts/", params={"locationId": tenant.location_id, "limit": 100})
    contacts: list[dict[str, Any]] = answer.json()["contacts"]
    return contacts


@pytest.fixture
def dup_tenant(crm_server: CrmServer) -> Tenant:
    """A location that allows duplicate contacts."""
    return new_tenant(crm_server, allow_duplicates=True)


def test_first_upsert_creates_then_the_same_email_updates(
    tenant: Tenant, api: httpx.Client
) -> None:
    first = upsert(api, tenant, email="lead@example.com", firstName="Lea")
    assert first["new"] is True
    assert first["traceId"]
    second = upsert(api, tenant, email="LEAD@example.com", lastName="Ray", source="pinterest")
    assert second["new"] is False
    assert second["contact"]["id"] == first["contact"]["id"]
    assert (second["contact"]["firstName"], second["contact"]["lastName"]) == ("Lea", "Ray")
    assert len(all_contacts(api, tenant)) == 1


def test_phone_alone_matches(tenant: Tenant, api: httpx.Client) -> None:
    first = upsert(api, tenant, phone="+1 (415) 555-0177")
    again = upsert(api, tenant, phone="4155550177", firstName="Phoned")
    assert again["new"] is False
    assert again["contact"]["id"] == first["contact"]["id"]
    assert again["contact"]["phone"] == "+14155550177"


def test_neither_email_nor_phone_always_creates(tenant: Tenant, api: httpx.Client) -> None:
    one = upsert(api, tenant, firstName="Anon")
    two = upsert(api, tenant, firstName="Anon")
    assert one["new"] is True
    assert two["new"] is True
    assert one["contact"]["id"] != two["contact"]["id"]


def test_email_and_phone_of_different_contacts_first_field_wins(
    tenant: Tenant, api: httpx.Client
) -> None:
    by_email = upsert(api, tenant, email="e@example.com")["contact"]
    by_phone = upsert(api, tenant, phone="+14155550123")["contact"]
    answer = upsert(api, tenant, email="e@example.com", phone="+14155550123", city="Oslo")
    assert answer["new"] is False
    contact = answer["contact"]
    assert contact["id"] == by_email["id"]
    # The phone belongs to the other contact: it is ignored, not copied (no duplicate made).
    assert contact["phone"] is None
    assert contact["city"] == "Oslo"
    assert api.get(f"/contacts/{by_phone['id']}").json()["contact"]["phone"] == "+14155550123"


def test_phone_first_priority_picks_the_phone_contact(tenant: Tenant, api: httpx.Client) -> None:
    set_priority(tenant, ["phone", "email"])
    upsert(api, tenant, email="e@example.com")
    by_phone = upsert(api, tenant, phone="+14155550123")["contact"]
    answer = upsert(api, tenant, email="e@example.com", phone="+14155550123")
    assert answer["contact"]["id"] == by_phone["id"]
    assert answer["contact"]["email"] is None


def test_a_location_matching_on_email_only_ignores_phones(
    tenant: Tenant, api: httpx.Client
) -> None:
    set_priority(tenant, ["email"])
    upsert(api, tenant, phone="+14155550123", email="a@example.com")
    answer = upsert(api, tenant, phone="+14155550123", email="b@example.com")
    assert answer["new"] is True
    assert answer["contact"]["phone"] == "+14155550123"


def test_a_new_phone_is_added_to_the_email_match(tenant: Tenant, api: httpx.Client) -> None:
    first = upsert(api, tenant, email="x@example.com")["contact"]
    answer = upsert(api, tenant, email="x@example.com", phone="+14155550999")
    assert answer["contact"]["id"] == first["id"]
    assert answer["contact"]["phone"] == "+14155550999"


def test_duplicates_allowed_still_updates_unless_asked_to_create(
    dup_tenant: Tenant,
) -> None:
    with dup_tenant.client() as api:
        first = upsert(api, dup_tenant, email="d@example.com")["contact"]
        again = upsert(api, dup_tenant, email="d@example.com", createNewIfDuplicateAllowed=False)
        assert again["new"] is False
        assert again["contact"]["id"] == first["id"]
        fresh = upsert(api, dup_tenant, email="d@example.com", createNewIfDuplicateAllowed=True)
        assert fresh["new"] is True
        assert fresh["contact"]["id"] != first["id"]
        # With two holders of the email, the oldest one is the match.
        later = upsert(api, dup_tenant, email="d@example.com", city="Rome")
        assert later["contact"]["id"] == first["id"]


def test_create_new_is_ignored_when_duplicates_are_not_allowed(
    tenant: Tenant, api: httpx.Client
) -> None:
    first = upsert(api, tenant, email="n@example.com")["contact"]
    again = upsert(api, tenant, email="n@example.com", createNewIfDuplicateAllowed=True)
    assert again["new"] is False
    assert again["contact"]["id"] == first["id"]


def test_tags_on_upsert_replace_the_set_and_absent_tags_keep_it(
    tenant: Tenant, api: httpx.Client
) -> None:
    upsert(api, tenant, email="t@example.com", tags=["one", "two"])
    kept = upsert(api, tenant, email="t@example.com", firstName="T")
    assert kept["contact"]["tags"] == ["one", "two"]
    replaced = upsert(api, tenant, email="t@example.com", tags=["Three"])
    assert replaced["contact"]["tags"] == ["three"]


def test_idempotency_key_answers_the_first_response(tenant: Tenant, api: httpx.Client) -> None:
    headers = {"Idempotency-Key": "upsert-1"}
    body = {"locationId": tenant.location_id, "firstName": "NoEmail"}
    first = api.post("/contacts/upsert", json=body, headers=headers)
    second = api.post("/contacts/upsert", json=body, headers=headers)
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(all_contacts(api, tenant)) == 1
    changed = api.post("/contacts/upsert", json={**body, "firstName": "X"}, headers=headers)
    assert changed.status_code == 422


def test_refused_upserts_change_nothing(tenant: Tenant, api: httpx.Client) -> None:
    upsert(api, tenant, email="keep@example.com", firstName="Keep")
    bad = [
        {"email": "keep@example.com", "firstName": "Nope", "phone": "12"},
        {"email": "keep@example.com", "firstName": "Nope", "favourite": 1},
        {"email": "keep@example.com", "firstName": "Nope", "dateOfBirth": "13/13/2000"},
    ]
    for body in bad:
        answer = api.post("/contacts/upsert", json={"locationId": tenant.location_id, **body})
        assert answer.status_code == 422, body
    foreign = api.post("/contacts/upsert", json={"locationId": "Z" * 20, "firstName": "Nope"})
    assert foreign.status_code == 403
    contacts = all_contacts(api, tenant)
    assert [c["firstName"] for c in contacts] == ["Keep"]


def test_read_only_key_cannot_upsert(tenant: Tenant) -> None:
    with tenant.client(tenant.read_key) as reader:
        answer = reader.post("/contacts/upsert", json={"locationId": tenant.location_id})
    assert answer.status_code == 401


def test_concurrent_upserts_of_one_new_lead_make_one_contact(
    tenant: Tenant, api: httpx.Client
) -> None:
    body = {"locationId": tenant.location_id, "email": "race@example.com", "firstName": "R"}

    def send(_: int) -> dict[str, Any]:
        with tenant.client() as client:
            answer = client.post("/contacts/upsert", json=body)
            assert answer.status_code == 200, answer.text
            result: dict[str, Any] = answer.json()
            return result

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(send, range(16)))
    assert sum(1 for r in results if r["new"]) == 1
    assert len({r["contact"]["id"] for r in results}) == 1
    assert len(all_contacts(api, tenant)) == 1
