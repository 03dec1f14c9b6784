"""Bulk tag updates: per-contact results, add/remove/removeAllTags, limits, scopes, events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from leadwire.crm.wire.tags import BULK_CONTACTS_MAX
from tests.crm.conftest import Tenant, new_tenant
from tests.crm.subresources import MISSING_ID, event_counts, make_contact, subscribe


def _tags_of(api: httpx.Client, contact_id: str) -> list[str]:
    tags: list[str] = api.get(f"/contacts/{contact_id}").json()["contact"]["tags"]
    return tags


def _bulk(
    api: httpx.Client, tenant: Tenant, kind: str, contacts: list[str], tags: list[str], **extra: Any
) -> httpx.Response:
    body = {"contacts": contacts, "tags": tags, "locationId": tenant.location_id, **extra}
    return api.post(f"/contacts/bulk/tags/update/{kind}", json=body)


def test_add_reports_each_contact_and_skips_bad_ids(tenant: Tenant, api: httpx.Client) -> None:
    first = make_contact(tenant, api, tags=["old"])
    second = make_contact(tenant, api)
    other = new_tenant(tenant.server)
    with other.client() as other_api:
        foreign = make_contact(other, other_api, tags=["theirs"])
    answer = _bulk(
        api, tenant, "add", [first, "abcdef", second, MISSING_ID, foreign, first], ["New", "old"]
    )
    assert answer.status_code == 201
    assert answer.json() == {
        "succeded": False,
        "errorCount": 3,
        "responses": [
            {
                "contactId": first,
                "message": "Tags updated",
                "type": "success",
                "oldTags": ["old"],
                "tagsAdded": ["new"],
                "tagsRemoved": [],
            },
            {
                "contactId": "abcdef",
                "message": "contact id is not a valid firebase id",
                "type": "error",
            },
            {
                "contactId": second,
                "message": "Tags updated",
                "type": "success",
                "oldTags": [],
                "tagsAdded": ["new", "old"],
                "tagsRemoved": [],
            },
            {"contactId": MISSING_ID, "message": "contact not found", "type": "error"},
            {
                "contactId": foreign,
                "message": "contact does not belong to location",
                "type": "error",
            },
            {
                "contactId": first,
                "message": "Tags updated",
                "type": "success",
                "oldTags": ["new", "old"],
                "tagsAdded": [],
                "tagsRemoved": [],
            },
        ],
    }
    assert _tags_of(api, first) == ["new", "old"]
    assert _tags_of(api, second) == ["new", "old"]
    with other.client() as other_api:
        assert _tags_of(other_api, foreign) == ["theirs"]


def test_all_good_is_succeded(tenant: Tenant, api: httpx.Client) -> None:
    ids = [make_contact(tenant, api) for _ in range(3)]
    answer = _bulk(api, tenant, "add", ids, ["x"])
    assert (answer.json()["succeded"], answer.json()["errorCount"]) == (True, 0)


def test_remove_and_remove_all(tenant: Tenant, api: httpx.Client) -> None:
    first = make_contact(tenant, api, tags=["a", "b", "c"])
    second = make_contact(tenant, api, tags=["b"])
    removed = _bulk(api, tenant, "remove", [first, second], ["B", "c", "absent"])
    assert removed.status_code == 201
    items = removed.json()["responses"]
    assert [(i["oldTags"], i["tagsAdded"], i["tagsRemoved"]) for i in items] == [
        (["a", "b", "c"], [], ["b", "c"]),
        (["b"], [], ["b"]),
    ]
    assert _tags_of(api, first) == ["a"]
    assert _tags_of(api, second) == []
    third = make_contact(tenant, api, tags=["x", "y"])
    cleared = _bulk(api, tenant, "remove", [first, third], [], removeAllTags=True)
    assert cleared.status_code == 201
    assert [i["tagsRemoved"] for i in cleared.json()["responses"]] == [["a"], ["x", "y"]]
    assert _tags_of(api, first) == _tags_of(api, third) == []


@pytest.mark.parametrize(
    ("kind", "body", "message"),
    [
        ("replace", {}, "type must be one of the following values: add, remove"),
        ("add", {"removeAllTags": True}, "removeAllTags can only be used with the remove type"),
        ("add", {"tags": []}, "tags should not be empty"),
        ("remove", {"tags": []}, "tags should not be empty"),
        ("add", {"contacts": []}, "contacts should not be empty"),
        ("add", {"contacts": "abc"}, "contacts must be an array"),
        ("add", {"tags": ["  "]}, "tags must not contain an empty tag"),
        ("add", {"removeAllTags": "yes"}, "removeAllTags must be a boolean value"),
        ("add", {"dryRun": True}, "property dryRun should not exist"),
    ],
)
def test_bad_request_is_422_and_changes_nothing(
    tenant: Tenant, api: httpx.Client, kind: str, body: dict[str, Any], message: str
) -> None:
    contact_id = make_contact(tenant, api, tags=["keep"])
    full = {"contacts": [contact_id], "tags": ["new"], "locationId": tenant.location_id, **body}
    answer = api.post(f"/contacts/bulk/tags/update/{kind}", json=full)
    assert answer.status_code == 422
    assert message in answer.json()["message"]
    assert _tags_of(api, contact_id) == ["keep"]


def test_missing_fields_are_422(tenant: Tenant, api: httpx.Client) -> None:
    answer = api.post("/contacts/bulk/tags/update/add", json={})
    assert answer.status_code == 422
    assert set(answer.json()["message"]) == {
        "contacts should not be empty",
        "tags should not be empty",
        "locationId should not be empty",
    }


def test_batch_size_is_limited(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    too_many = [contact_id] * (BULK_CONTACTS_MAX + 1)
    answer = _bulk(api, tenant, "add", too_many, ["x"])
    assert answer.status_code == 422
    assert answer.json()["message"] == ["contacts has too many items"]
    assert _tags_of(api, contact_id) == []
    at_limit = _bulk(api, tenant, "add", [contact_id] * BULK_CONTACTS_MAX, ["x"])
    assert at_limit.status_code == 201
    assert len(at_limit.json()["responses"]) == BULK_CONTACTS_MAX


def test_foreign_location_is_403(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    other = new_tenant(tenant.server)
    body = {"contacts": [contact_id], "tags": ["x"], "locationId": other.location_id}
    answer = api.post("/contacts/bulk/tags/update/add", json=body)
    assert answer.status_code == 403
    assert answer.json()["message"] == "The token does not have access to this location."
    assert _tags_of(api, contact_id) == []


def test_read_only_key_is_refused(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    with tenant.client(tenant.read_key) as reader:
        answer = _bulk(reader, tenant, "add", [contact_id], ["x"])
    assert answer.status_code == 401
    assert _tags_of(api, contact_id) == []


def test_one_event_per_changed_contact(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant, ["ContactTagUpdate"])
    tagged = make_contact(tenant, api, tags=["x"])
    fresh = make_contact(tenant, api)
    _bulk(api, tenant, "add", [tagged, fresh, "bad"], ["x"])
    assert event_counts(tenant, sub) == {"ContactTagUpdate": 1}
    _bulk(api, tenant, "remove", [tagged, fresh], [], removeAllTags=True)
    assert event_counts(tenant, sub) == {"ContactTagUpdate": 3}


def test_concurrent_bulk_and_single_adds_of_one_tag_all_succeed(
    tenant: Tenant, api: httpx.Client
) -> None:
    # The engine sends a run's tags in bulk while another run of the same lead may add the
    # same tag alone: read-then-insert failed the later one with a 500 on PostgreSQL.
    from concurrent.futures import ThreadPoolExecutor

    contacts = [make_contact(tenant, api) for _ in range(3)]

    def add(n: int) -> int:
        with tenant.client() as client:
            if n % 2:
                return _bulk(client, tenant, "add", contacts, ["race", "x"]).status_code
            answer = client.post(f"/contacts/{contacts[n % 3]}/tags", json={"tags": ["race"]})
            return answer.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(add, range(24)))
    assert codes == [201] * 24
    assert [_tags_of(api, c) for c in contacts] == [["race", "x"]] * 3
