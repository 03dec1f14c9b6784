"""`GET /contacts/` (deprecated list): cursor paging, query, limits, meta — on both backends."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from leadwire.crm.app import create_app
from leadwire.crm.models import ContactTag, utcnow
from leadwire.crm.records.contacts import new_contact
from tests.conftest import make_settings
from tests.crm.conftest import VERSION, Tenant
from tests.servers import running


def seed(tenant: Tenant, count: int, *, same_time_every: int = 1) -> list[str]:
    """Insert `count` contacts; every `same_time_every` of them share one dateAdded."""
    start = utcnow() - timedelta(days=1)
    ids: list[str] = []
    with tenant.server.store.sessions() as session:
        for k in range(count):
            contact = new_contact(tenant.location_id)
            contact.first_name = f"Person{k}"
            contact.date_added = start + timedelta(milliseconds=k // same_time_every)
            session.add(contact)
            ids.append(contact.id)
        session.commit()
    return ids


def page_through(api: httpx.Client, params: dict[str, Any]) -> list[dict[str, Any]]:
    """Follow nextPageUrl to the end; return every page's body."""
    pages = [api.get("/contacts/", params=params).json()]
    while pages[-1]["meta"]["nextPageUrl"] is not None:
        assert len(pages) < 50, "paging does not end"
        answer = api.get(pages[-1]["meta"]["nextPageUrl"])
        assert answer.status_code == 200, answer.text
        pages.append(answer.json())
    return pages


def test_paging_through_45_contacts_yields_each_once(tenant: Tenant, api: httpx.Client) -> None:
    ids = seed(tenant, 45, same_time_every=4)
    pages = page_through(api, {"locationId": tenant.location_id, "limit": 20})
    assert [len(p["contacts"]) for p in pages] == [20, 20, 5]
    seen = [c["id"] for p in pages for c in p["contacts"]]
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 45
    assert [p["meta"]["currentPage"] for p in pages] == [1, 2, 3]
    assert [p["meta"]["nextPage"] for p in pages] == [2, 3, None]
    assert [p["meta"]["prevPage"] for p in pages] == [None, 1, 2]
    assert {p["meta"]["total"] for p in pages} == {45}
    assert {p["count"] for p in pages} == {45}
    # Newest first.
    added = [c["dateAdded"] for p in pages for c in p["contacts"]]
    assert added == sorted(added, reverse=True)


def test_next_page_url_is_absolute_and_keeps_location_and_filters(
    tenant: Tenant, api: httpx.Client
) -> None:
    seed(tenant, 3)
    first = api.get(
        "/contacts/", params={"locationId": tenant.location_id, "limit": "2", "query": "person"}
    ).json()
    url = first["meta"]["nextPageUrl"]
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == tenant.url
    assert parts.path == "/contacts/"
    query = parse_qs(parts.query)
    assert query["locationId"] == [tenant.location_id]
    assert query["startAfterId"] == [first["meta"]["startAfterId"]]
    assert query["startAfter"] == [str(first["meta"]["startAfter"])]
    assert query["query"] == ["person"]
    assert first["contacts"][-1]["id"] == first["meta"]["startAfterId"]


def test_cursor_from_meta_without_the_url_works_too(tenant: Tenant, api: httpx.Client) -> None:
    ids = seed(tenant, 7, same_time_every=7)
    seen: list[str] = []
    params: dict[str, Any] = {"locationId": tenant.location_id, "limit": 3}
    cursors: set[tuple[int, str]] = set()
    while True:
        body = api.get("/contacts/", params=params).json()
        seen += [c["id"] for c in body["contacts"]]
        if body["meta"]["nextPage"] is None:
            break
        cursor = (body["meta"]["startAfter"], body["meta"]["startAfterId"])
        assert cursor not in cursors
        cursors.add(cursor)
        params.update(startAfter=cursor[0], startAfterId=cursor[1])
    assert sorted(seen) == sorted(ids)


def test_start_after_id_alone_continues_after_that_contact(
    tenant: Tenant, api: httpx.Client
) -> None:
    seed(tenant, 5)
    everything = api.get("/contacts/", params={"locationId": tenant.location_id}).json()
    ids = [c["id"] for c in everything["contacts"]]
    rest = api.get(
        "/contacts/", params={"locationId": tenant.location_id, "startAfterId": ids[1]}
    ).json()
    assert [c["id"] for c in rest["contacts"]] == ids[2:]
    assert rest["meta"]["nextPageUrl"] is None
    unknown = api.get(
        "/contacts/", params={"locationId": tenant.location_id, "startAfterId": "Q" * 20}
    )
    assert unknown.status_code == 400


def test_an_empty_location_lists_nothing(tenant: Tenant, api: httpx.Client) -> None:
    body = api.get("/contacts", params={"locationId": tenant.location_id}).json()
    assert body == {
        "contacts": [],
        "count": 0,
        "meta": {
            "total": 0,
            "nextPageUrl": None,
            "startAfterId": None,
            "startAfter": None,
            "currentPage": 1,
            "nextPage": None,
            "prevPage": None,
        },
    }


@pytest.mark.parametrize(("limit", "size"), [("20", 20), ("20.0", 20), ("1", 1), ("100", 25)])
def test_limit_spellings(tenant: Tenant, api: httpx.Client, limit: str, size: int) -> None:
    seed(tenant, 25)
    body = api.get("/contacts/", params={"locationId": tenant.location_id, "limit": limit}).json()
    assert len(body["contacts"]) == size


def test_default_limit_is_20(tenant: Tenant, api: httpx.Client) -> None:
    seed(tenant, 21)
    body = api.get("/contacts/", params={"locationId": tenant.location_id}).json()
    assert len(body["contacts"]) == 20
    assert "limit" not in parse_qs(urlsplit(body["meta"]["nextPageUrl"]).query)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"limit": "abc"}, "limit must be a number conforming to the specified constraints"),
        ({"limit": "0"}, "limit must not be less than 1"),
        ({"limit": "101"}, "limit must not be greater than 100"),
        ({"limit": "2.5"}, "limit must be an integer number"),
        (
            {"startAfter": "soon"},
            "startAfter must be a number conforming to the specified constraints",
        ),
        ({"startAfterId": "short"}, "startAfterId must be the id of a contact"),
    ],
)
def test_bad_parameters_are_422(
    tenant: Tenant, api: httpx.Client, params: dict[str, str], message: str
) -> None:
    answer = api.get("/contacts/", params={"locationId": tenant.location_id, **params})
    assert answer.status_code == 422
    assert answer.json()["message"][0].startswith(message)


def test_missing_or_foreign_location_is_403(tenant: Tenant, api: httpx.Client) -> None:
    seed(tenant, 1)
    for params in ({}, {"locationId": "X" * 20}, {"limit": "5"}):
        answer = api.get("/contacts/", params=params)
        assert answer.status_code == 403
        assert answer.json()["message"] == "The token does not have access to this location."


def test_read_only_key_may_list(tenant: Tenant) -> None:
    seed(tenant, 2)
    with tenant.client(tenant.read_key) as reader:
        answer = reader.get("/contacts/", params={"locationId": tenant.location_id})
    assert answer.status_code == 200
    assert len(answer.json()["contacts"]) == 2


def test_query_matches_name_email_phone_company_and_tags(tenant: Tenant, api: httpx.Client) -> None:
    def make(**fields: Any) -> str:
        body = {"locationId": tenant.location_id, **fields}
        answer = api.post("/contacts/", json=body)
        assert answer.status_code == 201, answer.text
        contact_id: str = answer.json()["contact"]["id"]
        return contact_id

    ada = make(firstName="Ada", lastName="Lovelace")
    mail = make(email="grace.hopper@navy.example")
    phone = make(phone="+14155550142")
    company = make(companyName="Analytical Engines Ltd")
    tagged = make(tags=["VIP_Lead"])
    make(firstName="Nobody")

    def found(query: str) -> set[str]:
        params = {"locationId": tenant.location_id, "query": query}
        return {c["id"] for c in api.get("/contacts/", params=params).json()["contacts"]}

    assert found("ada lovelace") == {ada}
    assert found("LOVE") == {ada}
    assert found("HOPPER@") == {mail}
    assert found("(415) 555-0142") == {phone}
    assert found("engines") == {company}
    assert found("vip_") == {tagged}
    assert found("%") == set()
    assert found("zzz") == set()


def test_tags_of_a_page_are_listed(tenant: Tenant, api: httpx.Client) -> None:
    ids = seed(tenant, 3)
    with tenant.server.store.sessions() as session:
        for contact_id in ids:
            for tag in ("b", "a"):
                session.add(
                    ContactTag(contact_id=contact_id, tag=tag, location_id=tenant.location_id)
                )
        session.commit()
    body = api.get("/contacts/", params={"locationId": tenant.location_id}).json()
    assert [c["tags"] for c in body["contacts"]] == [["a", "b"]] * 3


def test_public_url_setting_is_the_base_of_next_page_url(tenant: Tenant, tmp_path: Path) -> None:
    seed(tenant, 3)
    settings = make_settings(tmp_path, crm_public_url="https://crm.example.com/")
    app = create_app(settings, store=tenant.server.store)
    with running(app) as base:
        headers = {"Authorization": f"Bearer {tenant.key}", **VERSION}
        with httpx.Client(base_url=base, headers=headers) as client:
            body = client.get(
                "/contacts/", params={"locationId": tenant.location_id, "limit": 1}
            ).json()
    assert body["meta"]["nextPageUrl"].startswith(
        f"https://crm.example.com/contacts/?locationId={tenant.location_id}&"
    )
