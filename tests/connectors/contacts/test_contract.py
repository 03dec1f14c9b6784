"""The connector against the real embedded CRM over real HTTP, on SQLite and PostgreSQL.

`test_every_operation_of_the_reference` walks all 32 operations with real data and checks, from
the connector's own log lines, that it called exactly the reference's operationIds.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from importlib import resources

import pytest

from leadwire.connectors.contacts.client import ContactsClient
from leadwire.connectors.contacts.errors import ContactsNotFoundError, DuplicateContactError
from leadwire.connectors.contacts.wire.contacts import (
    ContactUpdate,
    CustomFieldValue,
    DndSetting,
    DndSettings,
    DndStatus,
    NewContact,
)
from leadwire.connectors.contacts.wire.listing import (
    Condition,
    Direction,
    Operator,
    SearchQuery,
    SortKey,
)
from leadwire.connectors.contacts.wire.memberships import BulkTagAction
from leadwire.connectors.contacts.wire.notes import NewNote, NoteUpdate
from leadwire.connectors.contacts.wire.tasks import NewTask, TaskUpdate
from tests.connectors.contacts.seeds import (
    add_business,
    add_campaign,
    add_field,
    add_user,
    add_workflow,
    book,
    client_of,
)
from tests.crm.conftest import CrmServer, Tenant, new_tenant

DUE = datetime(2026, 1, 9, 17, 30, 15, 250000, tzinfo=UTC)
_OPERATION = re.compile(r"contacts\.request operation=(\S+) .* status=(\d+)")


def _reference_operations() -> set[str]:
    spec = json.loads(
        (resources.files("leadwire.crm") / "spec" / "contacts-v2.openapi.json").read_bytes()
    )
    return {
        operation["operationId"]
        for item in spec["paths"].values()
        for method, operation in item.items()
        if method in ("get", "put", "post", "delete")
    }


@pytest.fixture
def tenant(crm_server: CrmServer) -> Tenant:
    """A fresh location (duplicates not allowed) on this test's CRM."""
    return new_tenant(crm_server)


@pytest.fixture
def client(tenant: Tenant) -> Iterator[ContactsClient]:
    with client_of(tenant) as connected:
        yield connected


def test_every_operation_of_the_reference(
    tenant: Tenant, client: ContactsClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="leadwire.connectors.contacts")
    ann, bob = add_user(tenant, "Ann"), add_user(tenant, "Bob")
    interests = add_field(tenant, "interests", "CHECKBOX", ["Kitchens", "Baths"])
    c = client.contacts

    rosa = c.create(
        NewContact(
            first_name="Rosa",
            last_name="Diaz",
            email="rosa.diaz@Example.com",
            phone="+1 415 555 0123",
            tags=["Pinterest", "lead"],
            custom_fields=[CustomFieldValue(key="contact.interests", field_value=["kitchens"])],
            company_name="Diaz Homes",
            source="pinterest",
            dnd_settings=DndSettings(sms=DndSetting(status=DndStatus.ACTIVE, message="asked")),
        )
    )
    assert rosa.dnd_settings is not None
    assert (rosa.dnd_settings["SMS"].status, rosa.dnd_settings["SMS"].message) == (
        "active",
        "asked",
    )
    assert rosa.email == "rosa.diaz@example.com"
    assert rosa.phone == "+14155550123"
    assert sorted(rosa.tags) == ["lead", "pinterest"]
    assert [(f.id, f.value) for f in rosa.custom_fields] == [(interests, ["Kitchens"])]
    assert c.get(rosa.id).company_name == "Diaz Homes"
    with pytest.raises(DuplicateContactError) as duplicate:
        c.create(NewContact(email="rosa.diaz@example.com"))
    assert (duplicate.value.contact_id, duplicate.value.matching_field) == (rosa.id, "email")
    updated = c.update(rosa.id, ContactUpdate(city="Oakland", assigned_to=ann))
    assert (updated.city, updated.assigned_to, updated.first_name) == ("Oakland", ann, "Rosa")
    upserted = c.upsert(NewContact(email="rosa.diaz@example.com", last_name="Díaz"))
    assert (upserted.new, upserted.contact.id, upserted.contact.last_name) == (
        False,
        rosa.id,
        "Díaz",
    )
    assert upserted.trace_id
    found = c.find_duplicate(phone="+14155550123")
    assert found is not None
    assert found.id == rosa.id
    assert c.find_duplicate(email="nobody@example.com") is None

    tasks = client.tasks
    task = tasks.create(rosa.id, NewTask(title="Call Rosa", due_date=DUE, body="re: kitchen"))
    assert (task.due_date, task.completed, task.contact_id) == (
        DUE.replace(microsecond=250000),
        False,
        rosa.id,
    )
    assert [t.id for t in tasks.list(rosa.id)] == [task.id]
    assert tasks.get(rosa.id, task.id).title == "Call Rosa"
    assert (
        tasks.update(rosa.id, task.id, TaskUpdate(title="Call Rosa back")).title == "Call Rosa back"
    )
    assert tasks.set_completed(rosa.id, task.id).completed is True
    assert tasks.delete(rosa.id, task.id) is True
    assert tasks.list(rosa.id) == []

    notes = client.notes
    note = notes.create(rosa.id, NewNote(body="Budget: high", title="Answers", user_id=bob))
    assert [n.id for n in notes.list(rosa.id)] == [note.id]
    assert notes.get(rosa.id, note.id).user_id == bob
    assert notes.update(rosa.id, note.id, NoteUpdate(pinned=True)).pinned is True
    assert notes.delete(rosa.id, note.id) is True
    with pytest.raises(ContactsNotFoundError):
        notes.get(rosa.id, note.id)

    assert client.tags.add(rosa.id, ["VIP", "vip "]) == ["lead", "pinterest", "vip"]
    assert client.tags.remove(rosa.id, ["lead", "absent"]) == ["pinterest", "vip"]
    other = c.create(NewContact(first_name="Omar"))
    bulk = client.tags.update_many(BulkTagAction.ADD, [rosa.id, other.id, "Z" * 20], ["hot"])
    assert (bulk.succeded, bulk.error_count) == (False, 1)
    assert [item.is_error for item in bulk.responses] == [False, False, True]
    removed = client.tags.update_many(BulkTagAction.REMOVE, [other.id], [], remove_all_tags=True)
    assert removed.responses[0].tags_removed == ["hot"]

    assert client.followers.add(rosa.id, [ann, bob]).followers_added == [ann, bob]
    assert client.followers.remove(rosa.id, [ann]).followers == [bob]

    first, second, flow = add_campaign(tenant), add_campaign(tenant), add_workflow(tenant)
    assert client.campaigns.add(rosa.id, first)
    assert client.campaigns.add(rosa.id, second)
    assert client.campaigns.remove(rosa.id, first)
    assert client.campaigns.remove_all(rosa.id)
    assert client.workflows.add(rosa.id, flow, start_at=DUE)
    assert client.workflows.remove(rosa.id, flow)

    appointment = book(tenant, rosa.id)
    (event,) = c.appointments(rosa.id)
    assert (event.id, event.title, event.start_time) == (
        appointment,
        "Consultation",
        "2026-01-05 15:00:00",
    )

    business = add_business(tenant)
    assert c.set_business([rosa.id, other.id, "Z" * 20], business).ids == [rosa.id, other.id]
    assert {x.id for x in client.lists.business_page(business).contacts} == {rosa.id, other.id}

    page = client.lists.page(limit=1)
    assert len(page.contacts) == 1
    assert page.count == 2
    hits = client.lists.search(
        SearchQuery(filters=[Condition(field="tags", operator=Operator.EQ, value="vip")])
    )
    assert [x.id for x in hits.contacts] == [rosa.id]

    assert c.delete(other.id) is True
    with pytest.raises(ContactsNotFoundError):
        c.get(other.id)

    called = {m.group(1) for m in map(_OPERATION.search, caplog.messages) if m}
    assert called == _reference_operations()
    assert len(called) == 32


def test_pages_end_without_repeats(tenant: Tenant, client: ContactsClient) -> None:
    made = {
        client.contacts.create(NewContact(first_name=f"P{n}", tags=["page"])).id for n in range(7)
    }
    listed = [x.id for x in client.lists.iter_all(limit=3)]
    assert sorted(listed) == sorted(made)
    searched = [
        x.id
        for x in client.lists.iter_search(
            SearchQuery(
                filters=[Condition(field="tags", operator=Operator.EQ, value="page")],
                sort=[SortKey(field="firstNameLowerCase", direction=Direction.ASC)],
            ),
            page_limit=2,
        )
    ]
    assert sorted(searched) == sorted(made)
    assert len(searched) == 7
    business = add_business(tenant)
    client.contacts.set_business(sorted(made), business)
    by_business = [x.id for x in client.lists.iter_business(business, limit=3)]
    assert sorted(by_business) == sorted(made)


def test_same_idempotency_key_creates_one_contact(tenant: Tenant, client: ContactsClient) -> None:
    contact = NewContact(first_name="Ida", email="ida@example.com")
    first = client.contacts.create(contact, idempotency_key="lead-77:create")
    again = client.contacts.create(contact, idempotency_key="lead-77:create")
    assert again.id == first.id
    upsert = NewContact(first_name="Uma", phone="+14155550199")
    one = client.contacts.upsert(upsert, idempotency_key="lead-78:upsert")
    two = client.contacts.upsert(upsert, idempotency_key="lead-78:upsert")
    assert (one.new, two.new, two.contact.id) == (True, True, one.contact.id)
    assert len(list(client.lists.iter_all())) == 2
    due = datetime.now(UTC) + timedelta(days=1)
    tasks = [
        client.tasks.create(first.id, NewTask(title="T", due_date=due), idempotency_key="k-task")
        for _ in range(2)
    ]
    notes = [
        client.notes.create(first.id, NewNote(body="N"), idempotency_key="k-note") for _ in range(2)
    ]
    assert len({t.id for t in tasks}) == len({n.id for n in notes}) == 1
    assert len(client.tasks.list(first.id)) == len(client.notes.list(first.id)) == 1
