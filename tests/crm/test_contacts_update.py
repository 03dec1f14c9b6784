"""Update and delete a contact; custom fields, birthdays, events — over HTTP on both backends."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from leadwire.crm.ids import new_id
from leadwire.crm.models import (
    Campaign,
    CampaignMember,
    ContactTag,
    CustomField,
    Note,
    Task,
    User,
    WebhookDelivery,
    WebhookSubscription,
    utcnow,
)
from tests.crm.conftest import CrmServer, Tenant, new_tenant


def create(api: httpx.Client, tenant: Tenant, **fields: Any) -> dict[str, Any]:
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, **fields})
    assert answer.status_code == 201, answer.text
    contact: dict[str, Any] = answer.json()["contact"]
    return contact


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


def subscribe(tenant: Tenant) -> str:
    """Subscribe to every event; nothing listens at the URL (the dispatcher is refused locally)."""
    sub_id = new_id()
    with tenant.server.store.sessions() as session:
        session.add(
            WebhookSubscription(
                id=sub_id, location_id=tenant.location_id, url="http://127.0.0.1:9/x", events=[]
            )
        )
        session.commit()
    return sub_id


def events(tenant: Tenant, sub_id: str) -> list[tuple[str, dict[str, Any]]]:
    with tenant.server.store.read_sessions() as session:
        rows = session.execute(
            select(WebhookDelivery.event_type, WebhookDelivery.payload)
            .where(WebhookDelivery.subscription_id == sub_id)
            .order_by(WebhookDelivery.date_added)
        ).all()
    return [(kind, payload) for kind, payload in rows]


def test_update_changes_only_what_was_sent(tenant: Tenant, api: httpx.Client) -> None:
    contact = create(api, tenant, firstName="Ada", lastName="Byron", city="London", tags=["a"])
    answer = api.put(
        f"/contacts/{contact['id']}", json={"lastName": "Lovelace", "phone": "+1 415 555 0100"}
    )
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["succeded"] is True
    updated = body["contact"]
    assert (updated["firstName"], updated["lastName"], updated["city"]) == (
        "Ada",
        "Lovelace",
        "London",
    )
    assert updated["phone"] == "+14155550100"
    assert updated["tags"] == ["a"]
    assert updated["dateUpdated"] >= contact["dateUpdated"]
    assert api.get(f"/contacts/{contact['id']}").json()["contact"] == updated


def test_update_tags_replace_the_set(tenant: Tenant, api: httpx.Client) -> None:
    contact = create(api, tenant, tags=["old", "keep"])
    answer = api.put(f"/contacts/{contact['id']}", json={"tags": ["Keep", "New "]})
    assert answer.json()["contact"]["tags"] == ["keep", "new"]
    cleared = api.put(f"/contacts/{contact['id']}", json={"tags": []})
    assert cleared.json()["contact"]["tags"] == []


@pytest.mark.parametrize("field", ["locationId", "gender", "companyName"])
def test_update_refuses_fields_the_dto_lacks(tenant: Tenant, api: httpx.Client, field: str) -> None:
    contact = create(api, tenant, firstName="Same")
    answer = api.put(f"/contacts/{contact['id']}", json={"firstName": "Changed", field: "x"})
    assert answer.status_code == 422
    assert answer.json()["message"] == [f"property {field} should not exist"]
    assert api.get(f"/contacts/{contact['id']}").json()["contact"]["firstName"] == "Same"


def test_update_to_another_contacts_email_is_a_duplicate(tenant: Tenant, api: httpx.Client) -> None:
    first = create(api, tenant, email="one@example.com", firstName="One")
    second = create(api, tenant, email="two@example.com", phone="+14155550111")
    answer = api.put(f"/contacts/{second['id']}", json={"email": "ONE@example.com", "city": "X"})
    assert answer.status_code == 400
    assert answer.json()["meta"] == {
        "contactId": first["id"],
        "contactName": "One",
        "matchingField": "email",
    }
    after = api.get(f"/contacts/{second['id']}").json()["contact"]
    assert (after["email"], after["city"]) == ("two@example.com", None)
    # Sending a contact's own email and phone back is no conflict.
    same = api.put(
        f"/contacts/{second['id']}", json={"email": "two@example.com", "phone": "+14155550111"}
    )
    assert same.status_code == 200


def test_update_and_delete_of_unknown_or_malformed_ids(api: httpx.Client) -> None:
    missing = "A" * 20
    assert api.put(f"/contacts/{missing}", json={}).status_code == 404
    assert api.delete(f"/contacts/{missing}").status_code == 404
    assert api.put("/contacts/bad!", json={}).status_code == 400
    assert api.delete("/contacts/bad!").status_code == 400


def test_a_read_only_key_cannot_update_or_delete(tenant: Tenant, api: httpx.Client) -> None:
    contact = create(api, tenant, firstName="Kept")
    with tenant.client(tenant.read_key) as reader:
        assert reader.put(f"/contacts/{contact['id']}", json={"firstName": "X"}).status_code == 401
        assert reader.delete(f"/contacts/{contact['id']}").status_code == 401
    assert api.get(f"/contacts/{contact['id']}").json()["contact"]["firstName"] == "Kept"


def test_another_locations_contact_is_not_found(
    tenant: Tenant, api: httpx.Client, other_tenant: Tenant
) -> None:
    contact = create(api, tenant, firstName="Mine")
    with other_tenant.client() as other:
        assert other.get(f"/contacts/{contact['id']}").status_code == 404
        assert other.put(f"/contacts/{contact['id']}", json={"firstName": "X"}).status_code == 404
        assert other.delete(f"/contacts/{contact['id']}").status_code == 404
    assert api.get(f"/contacts/{contact['id']}").json()["contact"]["firstName"] == "Mine"


@pytest.fixture
def other_tenant(crm_server: CrmServer) -> Tenant:
    return new_tenant(crm_server)


def test_delete_removes_the_contact_and_what_hangs_off_it(
    tenant: Tenant, api: httpx.Client
) -> None:
    contact = create(api, tenant, tags=["x", "y"])
    contact_id = contact["id"]
    with tenant.server.store.sessions() as session:
        session.add(
            Task(
                id=new_id(),
                contact_id=contact_id,
                location_id=tenant.location_id,
                title="call",
                due_date=utcnow(),
            )
        )
        session.add(
            Note(id=new_id(), contact_id=contact_id, location_id=tenant.location_id, body="hi")
        )
        campaign = Campaign(id=new_id(), location_id=tenant.location_id, name="drip")
        session.add(campaign)
        session.flush()
        session.add(CampaignMember(contact_id=contact_id, campaign_id=campaign.id))
        session.commit()
    answer = api.delete(f"/contacts/{contact_id}")
    assert answer.status_code == 200
    assert answer.json() == {"succeded": True}
    assert api.get(f"/contacts/{contact_id}").status_code == 404
    with tenant.server.store.read_sessions() as session:
        for model in (ContactTag, Task, Note, CampaignMember):
            count = session.scalar(
                select(func.count()).select_from(model).where(model.contact_id == contact_id)
            )
            assert count == 0, model.__name__
    assert api.delete(f"/contacts/{contact_id}").status_code == 404


def test_events_for_create_update_tags_dnd_and_delete(tenant: Tenant, api: httpx.Client) -> None:
    sub = subscribe(tenant)
    contact = create(api, tenant, firstName="Ev", tags=["a"])
    api.put(f"/contacts/{contact['id']}", json={"city": "Paris"})
    api.put(f"/contacts/{contact['id']}", json={"tags": ["b"]})
    api.put(f"/contacts/{contact['id']}", json={"dnd": True})
    api.delete(f"/contacts/{contact['id']}")
    kinds = [kind for kind, _ in events(tenant, sub)]
    assert kinds == [
        "ContactCreate",
        "ContactUpdate",
        "ContactUpdate",
        "ContactTagUpdate",
        "ContactUpdate",
        "ContactDndUpdate",
        "ContactDelete",
    ]
    payloads = [payload for _, payload in events(tenant, sub)]
    assert all(p["id"] == contact["id"] for p in payloads)
    assert payloads[3]["tags"] == ["b"]
    assert payloads[5]["dnd"] is True
    assert payloads[0]["locationId"] == tenant.location_id


def test_a_refused_update_sends_no_event(tenant: Tenant, api: httpx.Client) -> None:
    contact = create(api, tenant)
    sub = subscribe(tenant)
    assert api.put(f"/contacts/{contact['id']}", json={"phone": "12"}).status_code == 422
    assert events(tenant, sub) == []


def test_dnd_settings_change_is_a_dnd_event(tenant: Tenant, api: httpx.Client) -> None:
    contact = create(api, tenant)
    sub = subscribe(tenant)
    settings = {"SMS": {"status": "active", "message": "stop"}}
    answer = api.put(f"/contacts/{contact['id']}", json={"dndSettings": settings})
    assert answer.json()["contact"]["dndSettings"] == settings
    assert [kind for kind, _ in events(tenant, sub)] == ["ContactUpdate", "ContactDndUpdate"]


@pytest.mark.parametrize(
    ("sent", "stored"),
    [
        ("1990-09-25", "1990-09-25"),
        ("1990/09/25", "1990-09-25"),
        ("09/25/1990", "1990-09-25"),
        ("09-25-1990", "1990-09-25"),
        ("1990.09.25", "1990-09-25"),
        ("09_25_1990", "1990-09-25"),
        ("1990-09-25T00:00:00.000Z", "1990-09-25"),
    ],
)
def test_birthdays_in_the_documented_formats(
    tenant: Tenant, api: httpx.Client, sent: str, stored: str
) -> None:
    contact = create(api, tenant, dateOfBirth=sent)
    assert contact["dateOfBirth"] == stored


@pytest.mark.parametrize("sent", ["25/09/1990", "1990-02-30", "yesterday", "1990-09", 19900925])
def test_bad_birthdays_are_refused(tenant: Tenant, api: httpx.Client, sent: object) -> None:
    answer = api.post("/contacts/", json={"locationId": tenant.location_id, "dateOfBirth": sent})
    assert answer.status_code == 422
    assert answer.json()["message"][0].startswith("dateOfBirth must be a")


def test_custom_fields_by_id_or_key_under_any_value_name(tenant: Tenant, api: httpx.Client) -> None:
    budget = add_field(tenant, "budget", "NUMERICAL")
    colour = add_field(tenant, "colour", "SINGLE_OPTIONS", ["Red", "Blue"])
    likes = add_field(tenant, "likes", "CHECKBOX", ["Cats", "Dogs"])
    note = add_field(tenant, "note", "TEXT")
    contact = create(
        api,
        tenant,
        customFields=[
            {"id": budget, "field_value": 1500},
            {"key": "colour", "fieldValue": "red"},
            {"key": "contact.likes", "value": ["Dogs", "cats"]},
            {"id": note, "value": 94105},
        ],
    )
    values = {item["id"]: item["value"] for item in contact["customFields"]}
    assert values == {budget: 1500, colour: "Red", likes: ["Dogs", "Cats"], note: "94105"}
    # Update merges by field; an empty value clears that field only.
    answer = api.put(
        f"/contacts/{contact['id']}",
        json={"customFields": [{"id": budget, "field_value": "2500.5"}, {"id": note, "value": ""}]},
    )
    values = {item["id"]: item["value"] for item in answer.json()["contact"]["customFields"]}
    assert values == {budget: 2500.5, colour: "Red", likes: ["Dogs", "Cats"]}


@pytest.mark.parametrize(
    ("data_type", "options", "value", "problem"),
    [
        ("NUMERICAL", [], "lots", "must be a number"),
        ("MONETORY", [], True, "must be a number"),
        ("CHECKBOX", ["A"], "A", "must be an array of strings"),
        ("MULTIPLE_OPTIONS", ["A", "B"], ["A", "C"], "has no option 'C'"),
        ("SINGLE_OPTIONS", ["A"], "Z", "has no option 'Z'"),
        ("RADIO", ["Yes", "No"], ["Yes"], "must be a string"),
        ("TEXT", [], {"a": 1}, "must be a string"),
    ],
)
def test_custom_field_values_are_checked_against_the_type(
    tenant: Tenant,
    api: httpx.Client,
    data_type: str,
    options: list[str],
    value: object,
    problem: str,
) -> None:
    field_id = add_field(tenant, "checked", data_type, options)
    answer = api.post(
        "/contacts/",
        json={"locationId": tenant.location_id, "customFields": [{"id": field_id, "value": value}]},
    )
    assert answer.status_code == 422, answer.text
    message = answer.json()["message"]
    assert message == [f"customFields.0 (contact.checked) {message[0].split(') ', 1)[1]}"]
    assert problem in message[0]
    listed = api.get("/contacts/", params={"locationId": tenant.location_id}).json()
    assert listed["contacts"] == []


def test_unknown_custom_field_is_refused(tenant: Tenant, api: httpx.Client) -> None:
    answer = api.post(
        "/contacts/",
        json={"locationId": tenant.location_id, "customFields": [{"key": "nope", "value": 1}]},
    )
    assert answer.status_code == 422
    assert "names no custom field of this location" in answer.json()["message"][0]


def test_assigned_to_must_be_a_user_of_the_location(tenant: Tenant, api: httpx.Client) -> None:
    with tenant.server.store.read_sessions() as session:
        user_id = session.scalar(select(User.id).where(User.location_id == tenant.location_id))
    contact = create(api, tenant, assignedTo=user_id)
    assert contact["assignedTo"] == user_id
    answer = api.put(f"/contacts/{contact['id']}", json={"assignedTo": "B" * 20})
    assert answer.status_code == 422
    assert "assignedTo" in answer.json()["message"][0]


def test_too_long_values_are_422_not_a_database_error(tenant: Tenant, api: httpx.Client) -> None:
    contact = create(api, tenant)
    answer = api.put(f"/contacts/{contact['id']}", json={"firstName": "x" * 201})
    assert answer.status_code == 422
    assert answer.json()["message"][0].startswith("firstName")
    tagged = api.put(f"/contacts/{contact['id']}", json={"tags": ["t" * 201]})
    assert tagged.status_code == 422
