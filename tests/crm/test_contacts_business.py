"""Contacts of a business, bulk business assignment, and the duplicate look-up."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadwire.crm.ids import new_id
from leadwire.crm.models import Business, WebhookDelivery, WebhookSubscription
from tests.crm.conftest import CrmServer, Tenant, new_tenant


def create(api: httpx.Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 201, answer.text
    contact: dict[str, Any] = answer.json()["contact"]
    return contact


def add_business(tenant: Tenant, name: str = "Acme") -> str:
    business_id = new_id()
    with tenant.server.store.sessions() as session:
        session.add(Business(id=business_id, location_id=tenant.location_id, name=name))
        session.commit()
    return business_id


def assign(
    api: httpx.Client, tenant: Tenant, ids: list[str], business_id: str | None
) -> httpx.Response:
    body = {"locationId": tenant.location_id, "ids": ids, "businessId": business_id}
    return api.post("/contacts/bulk/business", json=body)


@pytest.fixture
def other(crm_server: CrmServer) -> Tenant:
    return new_tenant(crm_server)


def test_assign_list_and_remove_a_business(tenant: Tenant, api: httpx.Client) -> None:
    business = add_business(tenant)
    ids = [create(api, tenant, firstName=f"B{k}")["id"] for k in range(3)]
    answer = assign(api, tenant, ids[:2], business)
    assert answer.status_code == 200
    assert answer.json() == {"success": True, "ids": ids[:2]}
    assert api.get(f"/contacts/{ids[0]}").json()["contact"]["businessId"] == business
    listed = api.get(f"/contacts/business/{business}", params={"locationId": tenant.location_id})
    assert listed.status_code == 200
    body = listed.json()
    assert body["count"] == 2
    assert {c["id"] for c in body["contacts"]} == set(ids[:2])
    removed = assign(api, tenant, [ids[0]], None)
    assert removed.json() == {"success": True, "ids": [ids[0]]}
    assert api.get(f"/contacts/{ids[0]}").json()["contact"]["businessId"] is None
    after = api.get(f"/contacts/business/{business}", params={"locationId": tenant.location_id})
    assert [c["id"] for c in after.json()["contacts"]] == [ids[1]]


def test_bulk_skips_ids_that_are_not_the_locations_contacts(
    tenant: Tenant, api: httpx.Client, other: Tenant
) -> None:
    business = add_business(tenant)
    mine = create(api, tenant)["id"]
    with other.client() as other_api:
        theirs = create(other_api, other)["id"]
    answer = assign(api, tenant, [mine, theirs, "N" * 20, mine], business)
    assert answer.status_code == 200
    assert answer.json() == {"success": False, "ids": [mine]}
    with other.client() as other_api:
        assert other_api.get(f"/contacts/{theirs}").json()["contact"]["businessId"] is None


def test_bulk_refusals_change_nothing(tenant: Tenant, api: httpx.Client, other: Tenant) -> None:
    business = add_business(tenant)
    foreign_business = add_business(other)
    contact = create(api, tenant)["id"]
    assert assign(api, tenant, [contact], foreign_business).status_code == 404
    assert assign(api, tenant, [contact], "M" * 20).status_code == 404
    assert assign(api, tenant, [], business).status_code == 422
    assert assign(api, tenant, ["x" * 51], business).status_code == 422
    assert assign(api, tenant, [contact] * 51, business).status_code == 422
    missing = api.post(
        "/contacts/bulk/business", json={"locationId": tenant.location_id, "ids": [contact]}
    )
    assert missing.status_code == 422
    assert missing.json()["message"] == ["businessId should not be empty"]
    foreign = api.post(
        "/contacts/bulk/business",
        json={"locationId": other.location_id, "ids": [contact], "businessId": business},
    )
    assert foreign.status_code == 403
    with tenant.client(tenant.read_key) as reader:
        refused = reader.post(
            "/contacts/bulk/business",
            json={"locationId": tenant.location_id, "ids": [contact], "businessId": business},
        )
        assert refused.status_code == 401
    assert api.get(f"/contacts/{contact}").json()["contact"]["businessId"] is None


def test_bulk_assignment_sends_contact_updates(tenant: Tenant, api: httpx.Client) -> None:
    business = add_business(tenant)
    contact = create(api, tenant)["id"]
    sub = new_id()
    with tenant.server.store.sessions() as session:
        session.add(
            # Nothing listens there: the CRM's dispatcher may try it, and gets refused locally.
            WebhookSubscription(
                id=sub, location_id=tenant.location_id, url="http://127.0.0.1:9/hook", events=[]
            )
        )
        session.commit()
    assign(api, tenant, [contact], business)
    assign(api, tenant, [contact], business)  # no change: no event
    with tenant.server.store.read_sessions() as session:
        kinds = list(
            session.scalars(
                select(WebhookDelivery.event_type).where(WebhookDelivery.subscription_id == sub)
            )
        )
    assert kinds == ["ContactUpdate"]


def test_business_list_pages_with_limit_and_skip(tenant: Tenant, api: httpx.Client) -> None:
    business = add_business(tenant)
    ids = [create(api, tenant, firstName=f"P{k}")["id"] for k in range(5)]
    assign(api, tenant, ids, business)
    seen: list[str] = []
    for skip in ("0", "2", "4"):
        params = {"locationId": tenant.location_id, "limit": "2", "skip": skip}
        body = api.get(f"/contacts/business/{business}", params=params).json()
        assert body["count"] == 5
        seen += [c["id"] for c in body["contacts"]]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 5
    default = api.get(f"/contacts/business/{business}", params={"locationId": tenant.location_id})
    assert len(default.json()["contacts"]) == 5
    query = api.get(
        f"/contacts/business/{business}", params={"locationId": tenant.location_id, "query": "p3"}
    )
    assert [c["firstName"] for c in query.json()["contacts"]] == ["P3"]


@pytest.mark.parametrize(
    ("params", "status"),
    [
        ({"limit": "0"}, 422),
        ({"limit": "101"}, 422),
        ({"skip": "-1"}, 422),
        ({"skip": "x"}, 422),
        ({"locationId": None}, 403),
        ({"locationId": "F" * 20}, 403),
    ],
)
def test_business_list_refusals(
    tenant: Tenant, api: httpx.Client, params: dict[str, Any], status: int
) -> None:
    query = {"locationId": tenant.location_id, **params}
    query = {k: v for k, v in query.items() if v is not None}
    answer = api.get(f"/contacts/business/{add_business(tenant)}", params=query)
    assert answer.status_code == status


def test_unknown_business_lists_nothing(tenant: Tenant, api: httpx.Client) -> None:
    create(api, tenant)
    answer = api.get("/contacts/business/nothing", params={"locationId": tenant.location_id})
    assert answer.json() == {"contacts": [], "count": 0}


def test_duplicate_lookup_by_email_or_number(tenant: Tenant, api: httpx.Client) -> None:
    ada = create(api, tenant, email="ada+crm@example.com", phone="+14155550100", tags=["t"])
    params = {"locationId": tenant.location_id}

    def lookup(**query: str) -> Any:
        answer = api.get("/contacts/search/duplicate", params={**params, **query})
        assert answer.status_code == 200, answer.text
        return answer.json()["contact"]

    assert lookup(email="ADA+crm@example.com")["id"] == ada["id"]
    assert lookup(email="ADA+crm@example.com")["tags"] == ["t"]
    assert lookup(number="+14155550100")["id"] == ada["id"]
    assert lookup(number="(415) 555-0100")["id"] == ada["id"]
    assert lookup(email="nobody@example.com") is None
    assert lookup(email="nobody@example.com", number="+14155550100")["id"] == ada["id"]
    # An unencoded `+` arrives as a space; the look-up still finds the contact.
    raw = api.get(
        f"/contacts/search/duplicate?locationId={tenant.location_id}&email=ada+crm@example.com"
    )
    assert raw.json()["contact"]["id"] == ada["id"]


def test_duplicate_lookup_prefers_the_first_field(tenant: Tenant, api: httpx.Client) -> None:
    by_email = create(api, tenant, email="p@example.com")
    create(api, tenant, phone="+14155550101")
    answer = api.get(
        "/contacts/search/duplicate",
        params={
            "locationId": tenant.location_id,
            "email": "p@example.com",
            "number": "+14155550101",
        },
    )
    assert answer.json()["contact"]["id"] == by_email["id"]


def test_duplicate_lookup_needs_a_value_and_the_location(tenant: Tenant, api: httpx.Client) -> None:
    neither = api.get("/contacts/search/duplicate", params={"locationId": tenant.location_id})
    assert neither.status_code == 400
    assert neither.json()["message"] == "Pass at least one of number, email query parameter"
    foreign = api.get(
        "/contacts/search/duplicate", params={"locationId": "G" * 20, "email": "a@b.co"}
    )
    assert foreign.status_code == 403
