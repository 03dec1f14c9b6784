"""The first slice of the Contacts API: create and get, duplicates, idempotency keys."""

from __future__ import annotations

import httpx

from tests.crm.conftest import Tenant


def test_create_then_get_returns_the_contact(tenant: Tenant, api: httpx.Client) -> None:
    created = api.post(
        "/contacts/",
        json={
            "locationId": tenant.location_id,
            "firstName": "Ada",
            "lastName": "Lovelace",
            "email": "Ada@Example.com",
            "phone": "(415) 555-0132",
            "tags": ["Pinterest", " pinterest "],
        },
    )
    assert created.status_code == 201, created.text
    contact = created.json()["contact"]
    assert contact["phone"] == "+14155550132"
    assert contact["emailLowerCase"] == "ada@example.com"
    assert contact["tags"] == ["pinterest"]
    got = api.get(f"/contacts/{contact['id']}")
    assert got.status_code == 200
    assert got.json()["contact"]["id"] == contact["id"]
    assert got.headers["X-RateLimit-Max"]


def test_duplicate_email_gets_400_with_the_existing_contact(
    tenant: Tenant, api: httpx.Client
) -> None:
    body = {"locationId": tenant.location_id, "email": "dup@example.com"}
    first = api.post("/contacts/", json=body).json()["contact"]
    again = api.post("/contacts", json=body)
    assert again.status_code == 400
    assert again.json()["meta"] == {
        "contactId": first["id"],
        "contactName": "",
        "matchingField": "email",
    }


def test_same_idempotency_key_creates_once(tenant: Tenant, api: httpx.Client) -> None:
    body = {"locationId": tenant.location_id, "firstName": "Once"}
    headers = {"Idempotency-Key": "lead-123"}
    first = api.post("/contacts/", json=body, headers=headers)
    second = api.post("/contacts/", json=body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    other = api.post("/contacts/", json={**body, "firstName": "Twice"}, headers=headers)
    assert other.status_code == 422
    assert "different request" in other.json()["message"][0]


def test_unknown_property_is_refused_and_nothing_is_created(
    tenant: Tenant, api: httpx.Client
) -> None:
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, "favourite": 1})
    assert answer.status_code == 422
    assert answer.json()["message"] == ["property favourite should not exist"]


def test_foreign_location_is_forbidden(api: httpx.Client) -> None:
    answer = api.post("/contacts/", json={"locationId": "A" * 20})
    assert answer.status_code == 403
    assert answer.json()["message"] == "The token does not have access to this location."


def test_read_only_key_cannot_write(tenant: Tenant) -> None:
    with tenant.client(tenant.read_key) as client:
        answer = client.post("/contacts/", json={"locationId": tenant.location_id})
    assert answer.status_code == 401
    assert "scope" in answer.json()["message"]


def test_missing_version_header_is_401(tenant: Tenant) -> None:
    with tenant.client(version=False) as client:
        answer = client.get("/contacts/" + "A" * 20)
    assert answer.status_code == 401
    assert answer.json()["message"] == "version header was not found."
