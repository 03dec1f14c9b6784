"""`POST /contacts/search`: filters, groups, tags, custom fields, sort, paging — both backends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import update

from leadwire.crm.ids import new_id
from leadwire.crm.models import Contact, CustomField
from tests.crm.conftest import Tenant


def create(api: httpx.Client, tenant: Tenant, **fields: Any) -> str:
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 201, answer.text
    contact_id: str = answer.json()["contact"]["id"]
    return contact_id


def search(api: httpx.Client, tenant: Tenant, **body: Any) -> dict[str, Any]:
    payload = {"locationId": tenant.location_id, "pageLimit": 100, **body}
    answer = api.post("/contacts/search", json=payload)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


def found(api: httpx.Client, tenant: Tenant, *filters: dict[str, Any]) -> set[str]:
    return {c["id"] for c in search(api, tenant, filters=list(filters))["contacts"]}


def add_field(tenant: Tenant, key: str, data_type: str, options: list[str] | None = None) -> str:
    field_id = new_id()
    with tenant.server.store.sessions() as session:
        session.add(
            CustomField(
                id=field_id,
                location_id=tenant.location_id,
                key=f"contact.{key}",
                name=key,
                data_type=data_type,
                options=options or [],
                extra={},
            )
        )
        session.commit()
    return field_id


@pytest.fixture
def people(tenant: Tenant, api: httpx.Client) -> dict[str, str]:
    """Four contacts with distinct fields and tags."""
    return {
        "alex": create(
            api,
            tenant,
            firstName="Alex",
            lastName="Peter",
            email="alex@example.com",
            city="Berlin",
            dnd=True,
            tags=["vip", "pinterest"],
        ),
        "bea": create(
            api,
            tenant,
            firstName="Bea",
            lastName="Smith",
            phone="+14155550101",
            city="Paris",
            tags=["pinterest"],
        ),
        "cy": create(api, tenant, firstName="Cy", lastName="Peterson", companyName="Acme"),
        "dee": create(api, tenant, firstName="Dee", email="dee@sample.org", source="form"),
    }


def test_no_filters_returns_everything_newest_first(
    tenant: Tenant, api: httpx.Client, people: dict[str, str]
) -> None:
    result = search(api, tenant)
    assert result["total"] == 4
    assert [c["id"] for c in result["contacts"]] == [
        people["dee"],
        people["cy"],
        people["bea"],
        people["alex"],
    ]
    item = result["contacts"][0]
    assert item["searchAfter"][-1] == item["id"]
    assert isinstance(item["searchAfter"][0], int)


@pytest.mark.parametrize(
    ("condition", "names"),
    [
        ({"field": "firstNameLowerCase", "operator": "eq", "value": "alex"}, {"alex"}),
        ({"field": "lastNameLowerCase", "operator": "contains", "value": "peter"}, {"alex", "cy"}),
        (
            {"field": "lastNameLowerCase", "operator": "not_contains", "value": "peter"},
            {"bea", "dee"},
        ),
        ({"field": "city", "operator": "not_eq", "value": "berlin"}, {"bea", "cy", "dee"}),
        ({"field": "email", "operator": "eq", "value": "ALEX@example.com"}, {"alex"}),
        ({"field": "email", "operator": "exists"}, {"alex", "dee"}),
        ({"field": "email", "operator": "not_exists"}, {"bea", "cy"}),
        ({"field": "phone", "operator": "eq", "value": "(415) 555-0101"}, {"bea"}),
        ({"field": "phone", "operator": "contains", "value": "555"}, {"bea"}),
        ({"field": "dnd", "operator": "eq", "value": True}, {"alex"}),
        ({"field": "dnd", "operator": "not_eq", "value": True}, {"bea", "cy", "dee"}),
        ({"field": "companyName", "operator": "eq", "value": "acme"}, {"cy"}),
        ({"field": "businessName", "operator": "exists"}, {"cy"}),
        ({"field": "source", "operator": "eq", "value": "form"}, {"dee"}),
        ({"field": "validEmail", "operator": "eq", "value": True}, {"alex", "dee"}),
        ({"field": "tags", "operator": "eq", "value": "VIP"}, {"alex"}),
        ({"field": "tags", "operator": "eq", "value": ["vip", "pinterest"]}, {"alex", "bea"}),
        ({"field": "tags", "operator": "not_eq", "value": "pinterest"}, {"cy", "dee"}),
        ({"field": "tags", "operator": "contains", "value": "pin"}, {"alex", "bea"}),
        ({"field": "tags", "operator": "exists"}, {"alex", "bea"}),
        ({"field": "tags", "operator": "not_exists"}, {"cy", "dee"}),
        ({"field": "type", "operator": "eq", "value": "lead"}, {"alex", "bea", "cy", "dee"}),
    ],
)
def test_single_conditions(
    tenant: Tenant,
    api: httpx.Client,
    people: dict[str, str],
    condition: dict[str, Any],
    names: set[str],
) -> None:
    assert found(api, tenant, condition) == {people[n] for n in names}


def test_top_level_filters_are_anded_and_groups_nest(
    tenant: Tenant, api: httpx.Client, people: dict[str, str]
) -> None:
    pinterest = {"field": "tags", "operator": "eq", "value": "pinterest"}
    paris = {"field": "city", "operator": "eq", "value": "Paris"}
    assert found(api, tenant, pinterest, paris) == {people["bea"]}
    either = {
        "group": "OR",
        "filters": [
            {"field": "firstNameLowerCase", "operator": "eq", "value": "cy"},
            {
                "group": "AND",
                "filters": [pinterest, {"field": "dnd", "operator": "eq", "value": True}],
            },
        ],
    }
    assert found(api, tenant, either) == {people["cy"], people["alex"]}
    not_alex = {"field": "firstNameLowerCase", "operator": "not_eq", "value": "alex"}
    assert found(api, tenant, either, not_alex) == {people["cy"]}


def test_date_ranges(tenant: Tenant, api: httpx.Client, people: dict[str, str]) -> None:
    every = search(api, tenant)["contacts"]
    alex_added = next(c for c in every if c["id"] == people["alex"])["searchAfter"][0]
    later = {"field": "dateAdded", "operator": "range", "value": {"gt": alex_added}}
    assert found(api, tenant, later) == {people["bea"], people["cy"], people["dee"]}
    upto = {"field": "dateAdded", "operator": "range", "value": {"lte": alex_added}}
    assert found(api, tenant, upto) == {people["alex"]}
    iso = {"field": "dateAdded", "operator": "range", "value": {"gte": "2000-01-01T00:00:00Z"}}
    assert len(found(api, tenant, iso)) == 4


def test_custom_field_filters(tenant: Tenant, api: httpx.Client) -> None:
    budget = add_field(tenant, "budget", "NUMERICAL")
    colour = add_field(tenant, "colour", "SINGLE_OPTIONS", ["Red", "Blue"])
    likes = add_field(tenant, "likes", "MULTIPLE_OPTIONS", ["Cats", "Dogs", "Bird_s"])
    note = add_field(tenant, "note", "TEXT")
    rich = create(
        api,
        tenant,
        customFields=[
            {"id": budget, "value": 5000},
            {"id": colour, "value": "Red"},
            {"id": likes, "value": ["Cats", "Bird_s"]},
            {"id": note, "value": "Called twice"},
        ],
    )
    poor = create(
        api, tenant, customFields=[{"id": budget, "value": 50}, {"id": likes, "value": ["Dogs"]}]
    )
    plain = create(api, tenant, firstName="Plain")

    def where(field: str, operator: str, value: Any = None) -> set[str]:
        condition: dict[str, Any] = {"field": f"customFields.{field}", "operator": operator}
        if value is not None:
            condition["value"] = value
        return found(api, tenant, condition)

    assert where(budget, "range", {"gte": 100}) == {rich}
    assert where(budget, "range", {"gt": 10, "lt": 100}) == {poor}
    assert where(budget, "eq", 50) == {poor}
    assert where(budget, "not_eq", 50) == {rich, plain}
    assert where(budget, "exists") == {rich, poor}
    assert where(colour, "eq", "red") == {rich}
    assert where("colour", "not_exists") == {poor, plain}
    assert where(likes, "eq", "dogs") == {poor}
    assert where(likes, "eq", "Bird_s") == {rich}
    assert where(likes, "not_eq", "Cats") == {poor, plain}
    assert where(note, "contains", "twice") == {rich}
    assert where("contact.note", "exists") == {rich}


def test_followers_filters(tenant: Tenant, api: httpx.Client, people: dict[str, str]) -> None:
    follower = new_id()
    with tenant.server.store.sessions() as session:
        session.execute(
            update(Contact)
            .where(Contact.id.in_([people["alex"], people["bea"]]))
            .values(followers=[follower])
        )
        session.execute(
            update(Contact).where(Contact.id == people["cy"]).values(followers=[new_id()])
        )
        session.commit()
    eq = {"field": "followers", "operator": "eq", "value": follower}
    assert found(api, tenant, eq) == {people["alex"], people["bea"]}
    not_eq = {"field": "followers", "operator": "not_eq", "value": follower}
    assert found(api, tenant, not_eq) == {people["cy"], people["dee"]}
    assert found(api, tenant, {"field": "followers", "operator": "not_exists"}) == {people["dee"]}
    bad = api.post(
        "/contacts/search",
        json={
            "locationId": tenant.location_id,
            "pageLimit": 5,
            "filters": [{"field": "followers", "operator": "eq", "value": "%"}],
        },
    )
    assert bad.status_code == 422


def test_query_searches_names_emails_and_tags(
    tenant: Tenant, api: httpx.Client, people: dict[str, str]
) -> None:
    assert {c["id"] for c in search(api, tenant, query="peter")["contacts"]} == {
        people["alex"],
        people["cy"],
    }
    assert search(api, tenant, query="VIP")["total"] == 1


@pytest.mark.parametrize(
    "sort",
    [
        [{"field": "firstNameLowerCase", "direction": "asc"}],
        [
            {"field": "email", "direction": "desc"},
            {"field": "firstNameLowerCase", "direction": "asc"},
        ],
        [{"field": "dnd", "direction": "asc"}],
        [{"field": "dateAdded", "direction": "asc"}],
    ],
)
def test_search_after_pages_through_each_contact_once(
    tenant: Tenant, api: httpx.Client, sort: list[dict[str, str]]
) -> None:
    ids = {create(api, tenant, firstName=f"N{k % 3}", dnd=k % 2 == 0) for k in range(11)}
    seen: list[str] = []
    cursor: list[Any] | None = None
    while True:
        body: dict[str, Any] = {"pageLimit": 4, "sort": sort}
        if cursor is not None:
            body["searchAfter"] = cursor
        page = search(api, tenant, **body)
        assert page["total"] == 11
        if not page["contacts"]:
            break
        seen += [c["id"] for c in page["contacts"]]
        assert page["contacts"][-1]["searchAfter"] != cursor
        cursor = page["contacts"][-1]["searchAfter"]
    assert sorted(seen) == sorted(ids)


def test_page_numbers_page_too(tenant: Tenant, api: httpx.Client) -> None:
    ids = {create(api, tenant, firstName=f"P{k}") for k in range(5)}
    pages = [search(api, tenant, pageLimit=2, page=n)["contacts"] for n in (1, 2, 3, 4)]
    assert [len(p) for p in pages] == [2, 2, 1, 0]
    assert {c["id"] for p in pages for c in p} == ids
    sorted_asc = search(
        api, tenant, sort=[{"field": "firstNameLowerCase", "direction": "asc"}], pageLimit=5
    )
    assert [c["firstName"] for c in sorted_asc["contacts"]] == ["P0", "P1", "P2", "P3", "P4"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"page": 1, "searchAfter": [1, "x"]}, "page and searchAfter cannot be used together"),
        ({"page": 200, "pageLimit": 100}, "page * pageLimit must not exceed 10000"),
        ({"pageLimit": 501}, "pageLimit must not be greater than the maximum"),
        ({"filters": [{"field": "shoeSize", "operator": "eq", "value": 9}]}, "'shoeSize'"),
        ({"filters": [{"field": "city", "operator": "like", "value": "x"}]}, "'like'"),
        ({"filters": [{"field": "email", "operator": "contains", "value": "x"}]}, "contains"),
        ({"filters": [{"field": "city", "operator": "eq"}]}, "filters.0.value"),
        ({"filters": [{"field": "dnd", "operator": "eq", "value": "yes"}]}, "boolean"),
        ({"filters": [{"group": "XOR", "filters": []}]}, "filters.0.group"),
        (
            {
                "filters": [
                    {"group": "OR", "filters": [{"field": "x", "operator": "eq", "value": 1}]}
                ]
            },
            "filters.0.filters.0.field",
        ),
        ({"filters": [{"field": "customFields.nope", "operator": "exists"}]}, "no custom field"),
        ({"sort": [{"field": "phone", "direction": "asc"}]}, "sort.0.field"),
        ({"sort": [{"field": "email", "direction": "up"}]}, "sort.0.direction"),
        ({"searchAfter": ["x", "y"]}, "searchAfter must be the searchAfter"),
        ({"query": "q" * 76}, "query"),
        ({"filters": [{"field": "city", "operator": "eq", "value": "x", "extra": 1}]}, "extra"),
    ],
)
def test_bad_searches_are_422(
    tenant: Tenant, api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    answer = api.post(
        "/contacts/search", json={"locationId": tenant.location_id, "pageLimit": 10, **body}
    )
    assert answer.status_code == 422, answer.text
    assert any(message in line for line in answer.json()["message"]), answer.json()


def test_missing_required_fields_and_foreign_location(tenant: Tenant, api: httpx.Client) -> None:
    assert api.post("/contacts/search", json={"locationId": tenant.location_id}).status_code == 422
    assert api.post("/contacts/search", json={"pageLimit": 10}).status_code == 422
    foreign = api.post("/contacts/search", json={"locationId": "H" * 20, "pageLimit": 10})
    assert foreign.status_code == 403


def test_a_read_only_key_may_search(tenant: Tenant, people: dict[str, str]) -> None:
    with tenant.client(tenant.read_key) as reader:
        answer = reader.post(
            "/contacts/search", json={"locationId": tenant.location_id, "pageLimit": 1}
        )
    assert answer.status_code == 200
    assert answer.json()["total"] == 4
    assert len(answer.json()["contacts"]) == 1
