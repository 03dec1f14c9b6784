"""Notes of a contact: list, get, create, update, delete; errors, scopes, idempotency, events."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from leadwire.crm.ids import new_id
from leadwire.crm.models import Note
from tests.crm.conftest import Tenant, new_tenant
from tests.crm.subresources import (
    MISSING_ID,
    add_user,
    deliveries,
    event_counts,
    make_contact,
    subscribe,
)

NOTE_KEYS = {"id", "body", "userId", "dateAdded", "contactId", "title", "color", "pinned"}


def _create(api: httpx.Client, contact_id: str, **fields: Any) -> dict[str, Any]:
    answer = api.post(f"/contacts/{contact_id}/notes", json={"body": "Lead details", **fields})
    assert answer.status_code == 201, answer.text
    note: dict[str, Any] = answer.json()["note"]
    return note


def test_note_lifecycle(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    user_id = add_user(tenant)
    created = api.post(
        f"/contacts/{contact_id}/notes",
        json={
            "body": "Budget: $5k",
            "userId": user_id,
            "title": "Lead",
            "color": "#FFAA00",
            "pinned": True,
        },
    )
    assert created.status_code == 201
    note = created.json()["note"]
    assert set(note) == NOTE_KEYS
    assert note == {
        "id": note["id"],
        "body": "Budget: $5k",
        "userId": user_id,
        "dateAdded": note["dateAdded"],
        "contactId": contact_id,
        "title": "Lead",
        "color": "#FFAA00",
        "pinned": True,
    }
    assert note["dateAdded"].endswith("Z")

    assert api.get(f"/contacts/{contact_id}/notes/{note['id']}").json() == {"note": note}

    updated = api.put(
        f"/contacts/{contact_id}/notes/{note['id']}", json={"body": "Budget: $6k", "color": None}
    )
    assert updated.status_code == 200
    assert updated.json()["note"] == {**note, "body": "Budget: $6k", "color": None}

    deleted = api.delete(f"/contacts/{contact_id}/notes/{note['id']}/")
    assert deleted.status_code == 200
    assert deleted.json() == {"succeded": True}
    assert api.get(f"/contacts/{contact_id}/notes/{note['id']}").status_code == 404
    assert api.get(f"/contacts/{contact_id}/notes").json() == {"notes": []}


def test_defaults(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    note = _create(api, contact_id)
    assert (note["userId"], note["title"], note["color"], note["pinned"]) == (
        None,
        None,
        None,
        False,
    )


def test_list_is_newest_first_and_only_this_contacts(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    other_id = make_contact(tenant, api)
    _create(api, other_id)
    with tenant.server.store.sessions() as session:
        for day, body in ((1, "oldest"), (3, "newest"), (2, "middle")):
            session.add(
                Note(
                    id=new_id(),
                    contact_id=contact_id,
                    location_id=tenant.location_id,
                    body=body,
                    pinned=False,
                    date_added=datetime(2024, 1, day, tzinfo=UTC),
                )
            )
        session.commit()
    notes = api.get(f"/contacts/{contact_id}/notes/").json()["notes"]
    assert [n["body"] for n in notes] == ["newest", "middle", "oldest"]
    assert notes[0]["dateAdded"] == "2024-01-03T00:00:00.000Z"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "body should not be empty"),
        ({"body": ""}, "body should not be empty"),
        ({"body": 5}, "body must be a string"),
        ({"body": "x", "pinned": "yes"}, "pinned must be a boolean value"),
        ({"body": "x", "color": "#" * 40}, "color is too long"),
        ({"body": "x", "text": "y"}, "property text should not exist"),
    ],
)
def test_bad_create_body_is_422_and_creates_nothing(
    tenant: Tenant, api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    contact_id = make_contact(tenant, api)
    answer = api.post(f"/contacts/{contact_id}/notes", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]
    assert api.get(f"/contacts/{contact_id}/notes").json() == {"notes": []}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"body": None}, "body should not be empty"),
        ({"pinned": None}, "pinned should not be empty"),
        ({"pinned": 1}, "pinned must be a boolean value"),
        ({"locationId": "x"}, "property locationId should not exist"),
    ],
)
def test_bad_update_body_is_422_and_changes_nothing(
    tenant: Tenant, api: httpx.Client, body: dict[str, Any], message: str
) -> None:
    contact_id = make_contact(tenant, api)
    note = _create(api, contact_id)
    answer = api.put(f"/contacts/{contact_id}/notes/{note['id']}", json=body)
    assert answer.status_code == 422
    assert message in answer.json()["message"]
    assert api.get(f"/contacts/{contact_id}/notes/{note['id']}").json()["note"] == note


def test_author_must_be_a_user_of_the_location(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    outsider = add_user(new_tenant(tenant.server))
    answer = api.post(f"/contacts/{contact_id}/notes", json={"body": "x", "userId": outsider})
    assert answer.status_code == 422
    assert answer.json()["message"] == [f"userId {outsider!r} is not a user of this location"]
    note = _create(api, contact_id)
    moved = api.put(f"/contacts/{contact_id}/notes/{note['id']}", json={"userId": outsider})
    assert moved.status_code == 422
    assert api.get(f"/contacts/{contact_id}/notes").json() == {"notes": [note]}


def test_unknown_foreign_and_malformed_ids(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    sibling_id = make_contact(tenant, api)
    note = _create(api, contact_id)
    other = new_tenant(tenant.server)
    with other.client() as other_api:
        foreign_contact = make_contact(other, other_api)
        foreign_note = _create(other_api, foreign_contact)
    for method in ("GET", "PUT", "DELETE"):
        body = {"body": "x"} if method == "PUT" else None
        answer = api.request(method, f"/contacts/{sibling_id}/notes/{note['id']}", json=body)
        assert answer.status_code == 404, method
        assert answer.json()["message"] == f"Note with id {note['id']} not found"
        # A malformed note id is a 400, like every malformed id.
        malformed = api.request(method, f"/contacts/{contact_id}/notes/nope", json=body)
        assert malformed.status_code == 400, method
        assert malformed.json()["message"] == "id 'nope' is not a valid id (20 letters and digits)"
    assert api.get(f"/contacts/{contact_id}/notes/{MISSING_ID}").status_code == 404
    assert api.get(f"/contacts/{foreign_contact}/notes").status_code == 404
    assert api.get(f"/contacts/{foreign_contact}/notes/{foreign_note['id']}").status_code == 404
    assert api.post(f"/contacts/{foreign_contact}/notes", json={"body": "x"}).status_code == 404
    assert api.get("/contacts/bad-id/notes").status_code == 400
    with other.client() as other_api:
        listed = other_api.get(f"/contacts/{foreign_contact}/notes").json()
    assert listed == {"notes": [foreign_note]}


def test_read_only_key_reads_but_cannot_write(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    note = _create(api, contact_id)
    base = f"/contacts/{contact_id}/notes"
    with tenant.client(tenant.read_key) as reader:
        assert reader.get(base).status_code == 200
        assert reader.get(f"{base}/{note['id']}").status_code == 200
        refused = [
            reader.post(base, json={"body": "x"}),
            reader.put(f"{base}/{note['id']}", json={"body": "y"}),
            reader.delete(f"{base}/{note['id']}"),
        ]
    assert [r.status_code for r in refused] == [401, 401, 401]
    assert api.get(base).json() == {"notes": [note]}


def test_idempotency_key_creates_the_note_once(tenant: Tenant, api: httpx.Client) -> None:
    contact_id = make_contact(tenant, api)
    key = {"Idempotency-Key": "lead-42-note"}
    body = {"body": "Answers: a, b"}
    first = api.post(f"/contacts/{contact_id}/notes", json=body, headers=key)
    again = api.post(f"/contacts/{contact_id}/notes/", json=body, headers=key)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert len(api.get(f"/contacts/{contact_id}/notes").json()["notes"]) == 1
    different = api.post(f"/contacts/{contact_id}/notes", json={"body": "other"}, headers=key)
    assert different.status_code == 422
    assert len(api.get(f"/contacts/{contact_id}/notes").json()["notes"]) == 1


def test_events(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant, ["NoteCreate", "NoteUpdate", "NoteDelete"])
    contact_id = make_contact(tenant, api)
    note = _create(api, contact_id, body="first")
    api.put(f"/contacts/{contact_id}/notes/{note['id']}", json={"body": "second"})
    api.put(f"/contacts/{contact_id}/notes/{note['id']}", json={"body": 1})  # refused: no event
    api.delete(f"/contacts/{contact_id}/notes/{note['id']}")
    assert event_counts(tenant, sub) == {"NoteCreate": 1, "NoteUpdate": 1, "NoteDelete": 1}
    bodies = {p["type"]: p for p in deliveries(tenant, sub)}
    assert bodies["NoteCreate"]["body"] == "first"
    assert bodies["NoteUpdate"]["body"] == "second"
    assert {p["id"] for p in bodies.values()} == {note["id"]}
    assert {p["contactId"] for p in bodies.values()} == {contact_id}
