"""The wire models: what a body we send holds, and how leniently an answer is read."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from leadwire.connectors.contacts.wire.contacts import (
    BusinessBulkBody,
    Contact,
    ContactUpdate,
    CustomFieldValue,
    NewContact,
)
from leadwire.connectors.contacts.wire.tasks import NewTask, TaskUpdate


def test_only_fields_set_are_sent_and_null_clears() -> None:
    body = ContactUpdate(first_name="Ana", website=None).wire()
    assert body == {"firstName": "Ana", "website": None}


def test_required_fields_with_defaults_are_always_sent() -> None:
    due = datetime(2026, 1, 2, 3, 4, 5, 678901, tzinfo=UTC)
    assert NewTask(title="Call", due_date=due).wire() == {
        "title": "Call",
        "dueDate": "2026-01-02T03:04:05.678Z",
        "completed": False,
    }
    assert BusinessBulkBody(location_id="L", ids=["a"]).wire() == {
        "locationId": "L",
        "ids": ["a"],
        "businessId": None,
    }


def test_custom_fields_are_sent_as_field_value() -> None:
    body = NewContact(custom_fields=[CustomFieldValue(key="contact.size", field_value=3)]).wire()
    assert body == {"customFields": [{"key": "contact.size", "fieldValue": 3}]}


def test_our_own_mistakes_are_refused_before_sending() -> None:
    with pytest.raises(ValidationError):
        ContactUpdate(company_name="x")  # type: ignore[call-arg]  # not in UpdateContactDto
    with pytest.raises(ValidationError, match="timezone"):
        TaskUpdate(due_date=datetime(2026, 1, 2))


def test_answers_are_read_leniently() -> None:
    contact = Contact.model_validate(
        {
            "id": "c1",
            "firstName": "Ana",
            "customFields": [{"id": "f", "value": {"uuid": {"url": "x"}}}],
            "dndSettings": {"SMS": {"status": "active", "surprise": 1}},
            "opportunities": [{"id": "o"}],
            "additionalEmails": ["b@example.com"],
        }
    )
    assert contact.first_name == "Ana"
    assert contact.tags == []
    assert contact.dnd_settings is not None
    assert contact.dnd_settings["SMS"].status == "active"
