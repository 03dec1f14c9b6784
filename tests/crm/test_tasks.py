"""Tasks of a contact: list, get, create, update, complete, delete; errors, scopes, events."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.crm.conftest import Tenant, new_tenant
from tests.crm.subresources import (
    MISSING_ID,
    add_user,
    deliveries,
    event_counts,
    make_contact,
    subscribe,
)

TASK_KEYS = {"id", "title", "body", "assignedTo", "dueDate", "completed", "contactId"}


def _task(**fields: Any) -> dict[str, Any]:
    return {"title": "Call back", "dueDate": "2030-05-01T09:30:00Z", "completed": False, **fields}


def _create(api: httpx.Client, contact_id: str, **fields: Any) -> dict[str, Any]:
    answer = api.post(f"/contacts/{contact_id}/tasks", json=_task(**fields))
    assert answer.status_code == 201, answer.text
    task: dict[str, Any] = answer.json()["task"]
    return task


def test_task_lifecycle(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api, firstName="Ada")
    user_id = add_user(tenant)
    created = api.post(
        f"/contacts/{contact_id}/tasks",
        json=_task(body="About the quote", assignedTo=user_id),
    )
    assert created.status_code == 201
    task = created.json()["task"]
    assert set(task) == TASK_KEYS
    assert task == {
        "id": task["id"],
        "title": "Call back",
        "body": "About the quote",
        "assignedTo": user_id,
        "dueDate": "2030-05-01T09:30:00.000Z",
        "completed": False,
        "contactId": contact_id,
    }

    got = api.get(f"/contacts/{contact_id}/tasks/{task['id']}")
    assert got.status_code == 200
    assert got.json() == {"task": task}

    updated = api.put(f"/contacts/{contact_id}/tasks/{task['id']}", json={"title": "Call again"})
    assert updated.status_code == 200
    assert updated.json()["task"] == {**task, "title": "Call again"}

    cleared = api.put(
        f"/contacts/{contact_id}/tasks/{task['id']}", json={"body": None, "assignedTo": None}
    )
    assert cleared.json()["task"]["body"] is None
    assert cleared.json()["task"]["assignedTo"] is None

    done = api.put(f"/contacts/{contact_id}/tasks/{task['id']}/completed", json={"completed": True})
    assert done.status_code == 200
    assert done.json()["task"]["completed"] is True

    deleted = api.delete(f"/contacts/{contact_id}/tasks/{task['id']}")
    assert deleted.status_code == 200
    assert deleted.json() == {"succeded": True}
    assert api.get(f"/contacts/{contact_id}/tasks/{task['id']}").status_code == 404
    assert api.get(f"/contacts/{contact_id}/tasks").json() == {"tasks": []}


def test_list_is_soonest_due_first_and_only_this_contacts(
    tenant: Tenant, api: httpx.Client
) -> None:
    contact_id = make_contact(tenant, api)
    other_id = make_contact(tenant, api)
    later = _create(api, contact_id, title="later", dueDate="2031-01-01T00:00:00Z")
    sooner = _create(api, contact_id, title="sooner", dueDate="2030-01-01T00:00:00Z")
    _create(api, other_id, title="someone else's")
    listed = api.get(f"/contacts/{contact_id}/tasks/")
    assert listed.status_code == 200
    assert listed.json() == {"tasks": [sooner, later]}


@pytest.mark.parametrize(
    ("sent", "shown"),
    [
        ("2030-01-02T03:04:05.678+02:00", "2030-01-02T01:04:05.678Z"),
        ("2030-01-02T03:04:05.678901Z", "2030-01-02T03:04:05.678Z"),
        ("2030-01-02T03:04:05", "2030-01-02T03:04:05.000Z"),
        ("2030-01-02", "2030-01-02T00:00:00.000Z"),
    ],
)
def test_due_date_is_read_as_iso_8601_and_shown_in_utc_ms(
    tenant: Tenant, api: httpx.Client, sent: str, shown: str
) -> None:
    contact_id = make_contact(tenant, api)
    assert _create(api, contact_id, dueDate=sent)["dueDate"] == shown


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"dueDate": "2030-01-01T00:00:00Z", "completed": False}, "title should not be empty"),
        ({"title": "x", "completed": False}, "dueDate should not be empty"),
        ({"title": "x", "dueDate": "2030-01-01T00:00:00Z"}, "completed should not be empty"),
        (_task(title=""), "title should not be empty"),
        (_task(title=7), "title must be a string"),
        (_task(dueDate="next tuesday"), "dueDate must be a valid ISO 8601 date string"),
        (_task(dueDate=1893456000000), "dueDate must be a valid ISO 8601 date string"),
        (_task(completed="true"), "completed must be a boolean value"),
        (_task(status="incompleted"), "property status should not exist"),
    ],
)
def test_bad_create_body_is_422_and_creates_nothing(
    tenant: Tenant, api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    contact_id = make_contact(tenant, api)
    answer = api.post(f"/contacts/{contact_id}/tasks", json=body)
    assert answer.status_code == 422
    assert answer.json()["error"] == "Unprocessable Entity"
    assert message in answer.json()["message"]
    assert api.get(f"/contacts/{contact_id}/tasks").json() == {"tasks": []}


def test_assignee_must_be_a_user_of_the_location(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    other = new_tenant(tenant.server)
    outsider = add_user(other)
    answer = api.post(f"/contacts/{contact_id}/tasks", json=_task(assignedTo=outsider))
    assert answer.status_code == 422
    assert answer.json()["message"] == [f"assignedTo {outsider!r} is not a user of this location"]
    task = _create(api, contact_id)
    moved = api.put(f"/contacts/{contact_id}/tasks/{task['id']}", json={"assignedTo": outsider})
    assert moved.status_code == 422
    assert api.get(f"/contacts/{contact_id}/tasks/{task['id']}").json()["task"] == task


@pytest.mark.parametrize(
    ("path", "body", "message"),
    [
        ("", {"title": None}, "title should not be empty"),
        ("", {"dueDate": None}, "dueDate should not be empty"),
        ("", {"completed": None}, "completed should not be empty"),
        ("", {"dueDate": "soon"}, "dueDate must be a valid ISO 8601 date string"),
        ("", {"isCompleted": True}, "property isCompleted should not exist"),
        ("/completed", {}, "completed should not be empty"),
        ("/completed", {"completed": "yes"}, "completed must be a boolean value"),
        ("/completed", {"completed": True, "title": "x"}, "property title should not exist"),
    ],
)
def test_bad_update_body_is_422_and_changes_nothing(
    tenant: Tenant, api: httpx.Client, path: str, body: dict[str, Any], message: str
) -> None:
    contact_id = make_contact(tenant, api)
    task = _create(api, contact_id)
    answer = api.put(f"/contacts/{contact_id}/tasks/{task['id']}{path}", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]
    assert api.get(f"/contacts/{contact_id}/tasks/{task['id']}").json()["task"] == task


def test_unknown_and_foreign_ids(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    sibling_id = make_contact(tenant, api)
    task = _create(api, contact_id)
    other = new_tenant(tenant.server)
    with other.client() as other_api:
        foreign_contact = make_contact(other, other_api)
        foreign_task = _create(other_api, foreign_contact)

    # Another contact's task, even in the same location, is not found under this contact.
    for method in ("GET", "PUT", "DELETE"):
        body = {"title": "x"} if method == "PUT" else None
        answer = api.request(method, f"/contacts/{sibling_id}/tasks/{task['id']}", json=body)
        assert answer.status_code == 404, method
        assert answer.json()["message"] == f"Task with id {task['id']} not found"
    assert api.get(f"/contacts/{contact_id}/tasks/{MISSING_ID}").status_code == 404
    # Another location's contact and task are not found either.
    assert api.get(f"/contacts/{foreign_contact}/tasks").status_code == 404
    assert api.get(f"/contacts/{foreign_contact}/tasks/{foreign_task['id']}").status_code == 404
    assert api.post(f"/contacts/{foreign_contact}/tasks", json=_task()).status_code == 404
    assert api.get(f"/contacts/{MISSING_ID}/tasks").status_code == 404
    # Malformed ids are 400.
    bad_task = api.get(f"/contacts/{contact_id}/tasks/not-an-id")
    assert bad_task.status_code == 400
    assert "taskId" in bad_task.json()["message"]
    assert api.get("/contacts/short/tasks").status_code == 400
    assert api.post("/contacts/short/tasks", json=_task()).status_code == 400
    with other.client() as other_api:
        still = other_api.get(f"/contacts/{foreign_contact}/tasks/{foreign_task['id']}")
    assert still.json()["task"] == foreign_task
    assert api.get(f"/contacts/{contact_id}/tasks/{task['id']}").json()["task"] == task


def test_read_only_key_reads_but_cannot_write(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    task = _create(api, contact_id)
    base = f"/contacts/{contact_id}/tasks"
    with tenant.client(tenant.read_key) as reader:
        assert reader.get(base).status_code == 200
        assert reader.get(f"{base}/{task['id']}").status_code == 200
        refused = [
            reader.post(base, json=_task()),
            reader.put(f"{base}/{task['id']}", json={"title": "x"}),
            reader.put(f"{base}/{task['id']}/completed", json={"completed": True}),
            reader.delete(f"{base}/{task['id']}"),
        ]
    assert [r.status_code for r in refused] == [401, 401, 401, 401]
    assert all("contacts.write" in r.json()["message"] for r in refused)
    assert api.get(base).json() == {"tasks": [task]}


def test_idempotency_key_creates_the_task_once(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    other_id = make_contact(tenant, api)
    key = {"Idempotency-Key": "lead-42-task"}
    first = api.post(f"/contacts/{contact_id}/tasks", json=_task(), headers=key)
    again = api.post(f"/contacts/{contact_id}/tasks", json=_task(), headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(api.get(f"/contacts/{contact_id}/tasks").json()["tasks"]) == 1
    changed = api.post(f"/contacts/{contact_id}/tasks", json=_task(title="other"), headers=key)
    assert changed.status_code == 422
    elsewhere = api.post(f"/contacts/{other_id}/tasks", json=_task(), headers=key)
    assert elsewhere.status_code == 422
    assert api.get(f"/contacts/{other_id}/tasks").json() == {"tasks": []}
    without = api.post(f"/contacts/{contact_id}/tasks", json=_task())
    assert without.json()["task"]["id"] != first.json()["task"]["id"]


def test_events_create_complete_once_and_delete(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant)
    only_deletes = subscribe(tenant, ["TaskDelete"])
    contact_id = make_contact(tenant, api)
    task = _create(api, contact_id)
    base = f"/contacts/{contact_id}/tasks/{task['id']}"
    api.put(f"{base}/completed", json={"completed": True})
    api.put(f"{base}/completed", json={"completed": True})  # already completed: no event
    api.put(base, json={"completed": False})
    api.put(base, json={"completed": True, "title": "Done twice"})
    api.put(base, json={"title": "Renamed"})  # no event for a plain update
    api.delete(base)
    counts = event_counts(tenant, sub)
    assert counts["TaskCreate"] == 1
    assert counts["TaskComplete"] == 2
    assert counts["TaskDelete"] == 1
    assert event_counts(tenant, only_deletes) == {"TaskDelete": 1}


def test_event_payload_carries_the_task_and_contact(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant, ["TaskCreate"])
    contact_id = make_contact(tenant, api)
    task = _create(api, contact_id, body="b")
    [payload] = deliveries(tenant, sub)
    assert payload["type"] == "TaskCreate"
    assert payload["locationId"] == tenant.location_id
    # HighLevel's documented TaskCreate fields (no `completed`), with the contact's id.
    shown = ("id", "title", "body", "dueDate", "contactId")
    assert {k: payload[k] for k in shown} == {k: task[k] for k in shown}
    assert payload["dateAdded"].endswith("Z")


def test_completed_at_creation_sends_create_only(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant, ["TaskCreate", "TaskComplete"])
    contact_id = make_contact(tenant, api)
    _create(api, contact_id, completed=True)
    assert event_counts(tenant, sub) == {"TaskCreate": 1}
