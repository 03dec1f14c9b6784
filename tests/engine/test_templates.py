"""The built-in templates: valid, and their dry runs on generated leads make the right calls.

The calls are then made, as planned, against the embedded CRM over a real socket: the CRM
accepts every body, and a lead planned and sent twice lands once (upsert, tag sets,
Idempotency-Key on tasks and notes, the initial stage only for a new contact).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from leadwire.crm.app import create_app as create_crm_app
from leadwire.crm.models import Contact, ContactTag, Note, Task
from leadwire.crm.store import CrmStore, open_store
from leadwire.engine.flows import FlowVersion, list_templates, load_template, template_names
from leadwire.engine.planning import CrmCall, Outcome, PinterestContext, Plan, plan, read_lead
from leadwire.sandbox.generator import LeadGenerator
from tests.conftest import make_settings
from tests.engine.conftest import crm_location
from tests.servers import running

NOW = datetime(2026, 3, 4, 17, 0, tzinfo=UTC)  # a Wednesday, 12:00 in New York
BUDGETS = ["Under $5,000", "$5,000 - $10,000", "$10,000 - $25,000", "$25,000+"]
QUESTIONS: list[dict[str, Any]] = [
    {"question_type": "FULL_NAME"},
    {"question_type": "EMAIL"},
    {"question_type": "PHONE_NUMBER"},
    {"question_type": "ZIP_CODE"},
    {"question_type": "CITY"},
    {
        "question_type": "CUSTOM",
        "custom_question_field_type": "RADIO_LIST",
        "custom_question_label": "What is your budget?",
        "custom_question_options": BUDGETS,
    },
    {
        "question_type": "CUSTOM",
        "custom_question_field_type": "CHECKBOX",
        "custom_question_label": "Which rooms?",
        "custom_question_options": ["Kitchen", "Bathroom", "Living room"],
    },
]
CONTEXT = PinterestContext(
    ad_account="Acme", campaign="Spring Remodel", ad_group="Austin", ad="Pin 7", form="Quote form"
)


def generated_lead(locale: str, seed: int) -> dict[str, Any]:
    """A lead file (the delivery's shape) with a generated person's answers."""
    values = LeadGenerator(locale, seed, today=date(2026, 3, 1)).answers(QUESTIONS)
    answers = [
        {
            "question_type": q["question_type"],
            "custom_question_field_type": q.get("custom_question_field_type"),
            "question_label": q.get("custom_question_label"),
            "answer": value,
        }
        for q, value in zip(QUESTIONS, values, strict=True)
    ]
    return {
        "lead_id": str(9_000_000 + seed),
        "ad_account_id": "549755885175",
        "lead_form_id": "8001",
        "created_time": "2026-03-04T16:58:00Z",
        "campaign_id": "44",
        "ad_group_id": "55",
        "ad_id": "66",
        "answers": answers,
    }


def dry_run(
    name: str, data: dict[str, Any], location_id: str = "LOC"
) -> tuple[Plan, dict[str, Any]]:
    lead, _ = read_lead(data)
    flow = FlowVersion(f"flow_{name}", 1, load_template(name))
    return plan(flow, lead, CONTEXT, now=NOW, location_id=location_id), data


def test_the_three_templates_are_listed_with_what_they_do() -> None:
    assert template_names() == ["lead-follow-up", "lead-tags", "new-lead-contact"]
    for info in list_templates():
        assert info.title
        assert len(info.description) > 40


LEADS = [(locale, seed) for locale in ("en_US", "en_GB", "de_DE", "fr_FR") for seed in range(5)]


@pytest.mark.parametrize(("locale", "seed"), LEADS)
def test_new_lead_contact_upserts_and_gives_the_initial_stage(locale: str, seed: int) -> None:
    result, data = dry_run("new-lead-contact", generated_lead(locale, seed))
    assert result.outcome is Outcome.COMPLETE
    assert result.problems == ()
    upsert, stage = result.calls
    first, _, last = data["answers"][0]["answer"].partition(" ")
    assert upsert.body == {
        "locationId": "LOC",
        "firstName": first,
        "lastName": last,
        "email": data["answers"][1]["answer"].lower(),
        "phone": data["answers"][2]["answer"],
        "postalCode": data["answers"][3]["answer"],
        "city": data["answers"][4]["answer"],
        "source": "Pinterest Lead Ads",
    }
    assert (stage.operation_id, stage.body, stage.only_if_new_contact) == (
        "add-tags",
        {"tags": ["stage:lead"]},
        True,
    )


@pytest.mark.parametrize(("locale", "seed"), LEADS)
def test_lead_follow_up_adds_a_task_and_a_note_with_the_pinterest_context(
    locale: str, seed: int
) -> None:
    result, data = dry_run("lead-follow-up", generated_lead(locale, seed))
    assert result.outcome is Outcome.COMPLETE
    assert result.problems == ()
    _, task, note = result.calls
    first = data["answers"][0]["answer"].split(" ")[0]
    assert task.body["title"] == f"Call {first} back (Pinterest lead)"
    assert task.body["dueDate"] == "2026-03-05T14:30:00.000Z"
    assert task.body["body"].startswith("Came in through Spring Remodel. Full name: ")
    text = note.body["body"]
    for line in (
        "Campaign: Spring Remodel (44)",
        "Ad group: Austin (55)",
        "Ad: Pin 7 (66)",
        "Form: Quote form (8001)",
        "Submitted: 2026-03-04 11:58 EST",
        f"Pinterest lead id: {data['lead_id']}",
        "What is your budget?: ",
    ):
        assert line in text


@pytest.mark.parametrize(("locale", "seed"), LEADS)
def test_lead_tags_tags_source_and_answers_and_routes_big_budgets(locale: str, seed: int) -> None:
    result, data = dry_run("lead-tags", generated_lead(locale, seed))
    assert result.outcome is Outcome.COMPLETE
    assert result.problems == ()
    budget, rooms = data["answers"][5]["answer"], data["answers"][6]["answer"]
    tier = {"Under $5,000": "low", "$5,000 - $10,000": "medium"}.get(budget, "high")
    tags = result.calls[1].body["tags"]
    assert tags == [
        "pinterest-lead",
        "campaign:spring-remodel",
        "form:quote-form",
        *(f"room:{room.lower().replace(' ', '-')}" for room in rooms),
        f"budget:{tier}",
    ]
    (decision,) = result.decisions
    rest = [(c.operation_id, c.body) for c in result.calls[2:]]
    if tier == "high":
        assert decision.rule_name == "big budget"
        assert rest == [
            ("add-tags", {"tags": ["hot"]}),
            ("remove-tags", {"tags": ["stage:lead", "stage:customer"]}),
            ("add-tags", {"tags": ["stage:qualified"]}),
        ]
    else:
        assert decision.rule is None
        assert rest == [("add-tags", {"tags": ["warm"]})]


def test_a_lead_without_context_names_still_goes_through() -> None:
    lead, _ = read_lead(generated_lead("en_US", 1))
    result = plan(FlowVersion("f", 1, load_template("lead-follow-up")), lead, None, now=NOW)
    assert result.outcome is Outcome.COMPLETE
    note = result.calls[2].body["body"]
    assert "Campaign: unknown (44)" in note


# --- The planned calls, made against the embedded CRM --------------------------------------


@dataclass
class Crm:
    url: str
    store: CrmStore
    location_id: str
    key: str


@pytest.fixture(scope="module")
def crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Crm]:
    settings = make_settings(Path(tmp_path_factory.mktemp("templates-crm")))
    store = open_store(settings)
    location_id, key = crm_location(store, "templates")
    with running(create_crm_app(settings, store=store)) as url:
        yield Crm(url, store, location_id, key)
    store.engine.dispose()


def send(crm: Crm, result: Plan) -> None:
    """Make a plan's calls as the executor does: resolve the contact, skip stage if not new."""
    headers = {"Authorization": f"Bearer {crm.key}", "Version": "2021-07-28"}
    contact_id, is_new = "", False
    with httpx.Client(base_url=crm.url, headers=headers, timeout=10) as client:
        for action in result.actions:
            assert isinstance(action, CrmCall)
            if action.only_if_new_contact and not is_new:
                continue
            call = action.resolved(contact_id) if action.needs_contact_id else action
            response = client.request(
                call.method,
                call.path,
                params=call.query,
                json=call.body,
                headers={"Idempotency-Key": call.idempotency_key},
            )
            assert response.status_code in (200, 201), (call.operation_id, response.text)
            if call.gives_contact_id:
                contact_id, is_new = response.json()["contact"]["id"], response.json()["new"]


@pytest.mark.parametrize("name", ["new-lead-contact", "lead-follow-up", "lead-tags"])
def test_template_calls_land_once_in_the_embedded_crm(crm: Crm, name: str) -> None:
    data = generated_lead("en_US", 100 + template_names().index(name))
    result, _ = dry_run(name, data, crm.location_id)
    for plan_again in (
        result,
        dry_run(name, data, crm.location_id)[0],
    ):  # delivered twice, planned twice
        send(crm, plan_again)
    email = data["answers"][1]["answer"].lower()
    with crm.store.read_sessions() as session:
        (contact,) = session.scalars(
            select(Contact).where(
                Contact.location_id == crm.location_id, Contact.email_lower == email
            )
        ).all()
        tags = set(
            session.scalars(select(ContactTag.tag).where(ContactTag.contact_id == contact.id))
        )
        tasks = session.scalars(select(Task).where(Task.contact_id == contact.id)).all()
        notes = session.scalars(select(Note).where(Note.contact_id == contact.id)).all()
    planned_tags = {t for c in result.calls if c.operation_id == "add-tags" for t in c.body["tags"]}
    removed = {t for c in result.calls if c.operation_id == "remove-tags" for t in c.body["tags"]}
    assert tags == {t.lower() for t in planned_tags - removed}
    assert contact.phone == data["answers"][2]["answer"]
    kinds = [c.operation_id for c in result.calls]
    assert len(tasks) == kinds.count("create-task")
    assert len(notes) == kinds.count("create-note")
    if tasks:
        assert tasks[0].due_date == datetime(2026, 3, 5, 14, 30, tzinfo=UTC)
