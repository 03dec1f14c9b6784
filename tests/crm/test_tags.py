"""Adding and removing a contact's tags (DELETE takes a JSON body); errors, scopes, events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.crm.conftest import Tenant, new_tenant
from tests.crm.subresources import MISSING_ID, deliveries, event_counts, make_contact, subscribe


def _tags_of(api: httpx.Client, contact_id: str) -> list[str]:
    tags: list[str] = api.get(f"/contacts/{contact_id}").json()["contact"]["tags"]
    return tags


def test_add_answers_the_full_tag_set(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api, tags=["existing"])
    added = api.post(f"/contacts/{contact_id}/tags", json={"tags": ["Pinterest", " Hot  Lead "]})
    assert added.status_code == 201
    assert added.json() == {"tags": ["existing", "hot lead", "pinterest"]}
    again = api.post(f"/contacts/{contact_id}/tags/", json={"tags": ["pinterest", "PINTEREST"]})
    assert again.status_code == 201
    assert again.json() == {"tags": ["existing", "hot lead", "pinterest"]}
    assert _tags_of(api, contact_id) == ["existing", "hot lead", "pinterest"]


def test_remove_takes_a_json_body_on_delete(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api, tags=["a", "b", "c"])
    removed = api.request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": ["A", "zzz"]})
    assert removed.status_code == 200
    assert removed.json() == {"tags": ["b", "c"]}
    slash = api.request("DELETE", f"/contacts/{contact_id}/tags/", json={"tags": ["b", "c"]})
    assert slash.status_code == 200
    assert slash.json() == {"tags": []}
    assert _tags_of(api, contact_id) == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (None, "body should not be empty"),
        ({}, "tags should not be empty"),
        ({"tags": []}, "tags should not be empty"),
        ({"tags": "vip"}, "tags must be an array"),
        ({"tags": [1]}, "tags.0 must be a string"),
        ({"tags": ["ok", "   "]}, "tags must not contain an empty tag"),
        ({"tags": ["x" * 201]}, "tags must not contain a tag longer than 200 characters"),
        ({"tags": ["vip"], "locationId": "x"}, "property locationId should not exist"),
    ],
)
@pytest.mark.parametrize("method", ["POST", "DELETE"])
def test_bad_body_is_422_and_changes_nothing(
    tenant: Tenant, api: httpx.Client, method: str, body: dict[str, Any] | None, message: str
) -> None:
    contact_id = make_contact(tenant, api, tags=["keep"])
    answer = api.request(method, f"/contacts/{contact_id}/tags", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]
    assert _tags_of(api, contact_id) == ["keep"]


def test_unknown_foreign_and_malformed_contacts(tenant: Tenant, api: httpx.Client) -> None:
    other = new_tenant(tenant.server)
    with other.client() as other_api:
        foreign = make_contact(other, other_api, tags=["theirs"])
    for method in ("POST", "DELETE"):
        body = {"tags": ["theirs", "mine"]}
        assert api.request(method, f"/contacts/{foreign}/tags", json=body).status_code == 404
        assert api.request(method, f"/contacts/{MISSING_ID}/tags", json=body).status_code == 404
        assert api.request(method, "/contacts/123/tags", json=body).status_code == 400
    with other.client() as other_api:
        assert _tags_of(other_api, foreign) == ["theirs"]


def test_read_only_key_cannot_change_tags(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api, tags=["keep"])
    with tenant.client(tenant.read_key) as reader:
        added = reader.post(f"/contacts/{contact_id}/tags", json={"tags": ["x"]})
        removed = reader.request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": ["keep"]})
    assert (added.status_code, removed.status_code) == (401, 401)
    assert _tags_of(api, contact_id) == ["keep"]


def test_tag_update_event_only_when_tags_change(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant, ["ContactTagUpdate"])
    contact_id = make_contact(tenant, api, email="tagged@example.com")
    api.post(f"/contacts/{contact_id}/tags", json={"tags": ["vip"]})
    api.post(f"/contacts/{contact_id}/tags", json={"tags": ["vip"]})  # no change
    api.request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": ["absent"]})  # no change
    api.request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": ["vip"]})
    assert event_counts(tenant, sub) == {"ContactTagUpdate": 2}
    tag_sets = sorted(p["tags"] for p in deliveries(tenant, sub))
    assert tag_sets == [[], ["vip"]]
    assert {p["id"] for p in deliveries(tenant, sub)} == {contact_id}
    assert {p["email"] for p in deliveries(tenant, sub)} == {"tagged@example.com"}


def test_no_change_leaves_the_contact_untouched(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api, tags=["kept"])
    before = api.get(f"/contacts/{contact_id}").json()["contact"]
    unchanged = api.request("DELETE", f"/contacts/{contact_id}/tags", json={"tags": ["none"]})
    assert unchanged.json() == {"tags": ["kept"]}
    again = api.post(f"/contacts/{contact_id}/tags", json={"tags": ["KEPT"]})
    assert again.json() == {"tags": ["kept"]}
    assert api.get(f"/contacts/{contact_id}").json()["contact"] == before


def test_concurrent_adds_of_one_tag_all_succeed_and_keep_one(
    tenant: Tenant, api: httpx.Client
) -> None:
    # Read-then-insert let two requests insert the same tag; the second failed with a 500 on
    # PostgreSQL (SQLite's single writer hid it).
    from concurrent.futures import ThreadPoolExecutor

    contact_id = make_contact(tenant, api)

    def add(_: int) -> int:
        with tenant.client() as client:
            answer = client.post(f"/contacts/{contact_id}/tags", json={"tags": ["race", "x"]})
            return answer.status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        codes = list(pool.map(add, range(24)))
    assert codes == [201] * 24
    assert _tags_of(api, contact_id) == ["race", "x"]
