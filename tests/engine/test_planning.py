"""The planner: exact calls, route decisions, filters, mapping problems, ids and placeholders."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    FieldType,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)
from leadwire.engine.flows import FlowVersion, validate_data
from leadwire.engine.flows.signing import sign_body, signature_headers, verify_signature
from leadwire.engine.planning import (
    CONTACT_ID,
    CrmCall,
    Outcome,
    PinterestContext,
    Plan,
    Wait,
    WebhookCall,
    plan,
)

NOW = datetime(2026, 3, 6, 20, 0, tzinfo=UTC)  # a Friday, 15:00 in New York
UPSERT = {
    "id": "contact",
    "type": "upsert_contact",
    "fields": {
        "firstName": "{{ answers.full_name | split_name.first }}",
        "email": "{{ answers.email | trim | lower }}",
        "phone": "{{ answers.phone | e164(region='US') }}",
    },
}


def make_lead(lead_id: str = "7001", *, is_test: bool = False, **answers: str | list[str]) -> Lead:
    """A lead with standard answers by type name (`email=...`) or custom ones by label."""
    found = []
    for key, value in answers.items():
        kind = QuestionType.__members__.get(key.upper())
        label = None if kind else key.replace("_", " ")
        field = FieldType.CHECKBOX if isinstance(value, list) else None
        values = tuple(value) if isinstance(value, list) else (value,)
        found.append(Answer(kind or QuestionType.CUSTOM, label, values, field))
    return Lead(
        LeadId(lead_id),
        AdAccountId("11"),
        LeadFormId("22"),
        datetime(2026, 3, 6, 19, 58, tzinfo=UTC),
        ad_id="33",
        campaign_id="44",
        is_test=is_test,
        answers=tuple(found),
    )


ADA = {"full_name": "Ada Lovelace", "email": " Ada@Example.com ", "phone_number": "512 555 0142"}


def flow(*steps: dict[str, Any], version: int = 1, **extra: Any) -> FlowVersion:
    data = {"name": "test", "trigger": {"type": "pinterest_lead"}, "steps": list(steps), **extra}
    return FlowVersion("flow_1", version, validate_data(data))


def planned(version: FlowVersion, lead: Lead | None = None, **kwargs: Any) -> Plan:
    result = plan(
        version,
        lead or make_lead(**ADA),
        kwargs.pop("context", None),
        now=NOW,
        location_id="LOC",
        **kwargs,
    )
    # Every plan survives a trip through JSON: the executor stores it.
    assert Plan.model_validate(json.loads(json.dumps(result.to_json()))) == result
    return result


def test_the_upsert_maps_fields_and_later_calls_refer_to_the_contact() -> None:
    result = planned(flow(UPSERT, {"id": "tag", "type": "add_tags", "tags": ["pinterest"]}))
    upsert, tags = result.calls
    assert (upsert.method, upsert.path, upsert.operation_id) == (
        "POST",
        "/contacts/upsert",
        "upsert-contact",
    )
    assert upsert.body == {
        "locationId": "LOC",
        "firstName": "Ada",
        "email": "ada@example.com",
        "phone": "+15125550142",
    }
    assert upsert.gives_contact_id
    assert not upsert.needs_contact_id
    assert tags.path == f"/contacts/{CONTACT_ID}/tags"
    assert tags.needs_contact_id
    assert tags.resolved("abc123").path == "/contacts/abc123/tags"
    assert result.outcome is Outcome.COMPLETE
    assert result.problems == ()


def test_idempotency_keys_are_stable_per_lead_version_and_step() -> None:
    steps = (UPSERT, {"id": "note", "type": "add_note", "body": "hi"})
    first, again = planned(flow(*steps)), planned(flow(*steps))
    keys = [call.idempotency_key for call in first.calls]
    assert keys == [call.idempotency_key for call in again.calls]
    assert len(set(keys)) == 2
    assert all(k.isascii() and k.isprintable() and len(k) <= 255 for k in keys)
    newer = planned(flow(*steps, version=2))
    other_lead = planned(flow(*steps), make_lead("7002", **ADA))
    for changed in (newer, other_lead):
        assert not set(keys) & {call.idempotency_key for call in changed.calls}


@pytest.mark.parametrize(
    ("budget", "rule", "tag"),
    [
        ("$30,000", 0, "big"),
        ("$8,000", 1, "medium"),
        ("$500", None, "small"),
        (None, None, "small"),
    ],
)
def test_routing_takes_the_first_rule_that_holds_else_the_default(
    budget: str | None, rule: int | None, tag: str
) -> None:
    route = {
        "id": "by-budget",
        "type": "route",
        "rules": [
            {
                "name": "big",
                "when": "answers.budget | number >= 20000",
                "steps": [{"id": "t-big", "type": "add_tags", "tags": ["big"]}],
            },
            {
                "when": "answers.budget | number >= 5000",
                "steps": [{"id": "t-medium", "type": "add_tags", "tags": ["medium"]}],
            },
            {
                "when": "answers.budget | number >= 1000",  # never reached before the rule above
                "steps": [{"id": "t-never", "type": "add_tags", "tags": ["never"]}],
            },
        ],
        "default": [{"id": "t-small", "type": "add_tags", "tags": ["small"]}],
    }
    answers = {**ADA, **({"budget": budget} if budget else {})}
    result = planned(flow(UPSERT, route), make_lead(**answers))
    assert [d.rule for d in result.decisions] == [rule]
    assert result.decisions[0].branch == ("default" if rule is None else f"rules[{rule}]")
    assert result.calls[-1].body == {"tags": [tag]}
    assert len(result.calls) == 2


def test_a_rule_that_cannot_be_evaluated_is_a_problem_then_skipped_or_stops() -> None:
    rule = {
        "when": "answers.budget | number > 5",
        "steps": [{"id": "t", "type": "add_tags", "tags": ["x"]}],
    }
    route = {
        "id": "r",
        "type": "route",
        "rules": [rule],
        "default": [{"id": "d", "type": "add_tags", "tags": ["d"]}],
    }
    lead = make_lead(budget="lots", **ADA)
    skipped = planned(flow(UPSERT, route), lead)
    assert skipped.outcome is Outcome.COMPLETE
    assert skipped.problems[0].message == "mapping rules[0].when: 'lots' is not a number"
    assert skipped.calls[-1].body == {"tags": ["d"]}
    stopped = planned(flow(UPSERT, {**route, "on_error": "stop"}), lead)
    assert stopped.outcome is Outcome.STOPPED
    assert stopped.reason == "mapping rules[0].when: 'lots' is not a number"
    assert [c.operation_id for c in stopped.calls] == ["upsert-contact"]


def test_a_filter_stops_the_run_as_filtered_with_its_reason() -> None:
    only_real = {
        "id": "real-only",
        "type": "filter",
        "continue_if": "not lead.is_test",
        "reason": "{{ answers.email | trim }} is a test lead",
    }
    steps = (only_real, UPSERT)
    assert planned(flow(*steps)).outcome is Outcome.COMPLETE
    result = planned(flow(*steps), make_lead(is_test=True, **ADA))
    assert result.outcome is Outcome.FILTERED
    assert result.reason == "real-only: Ada@Example.com is a test lead"
    assert result.actions == ()


def test_a_filter_that_cannot_be_evaluated_never_drops_the_lead_silently() -> None:
    check = {"id": "budget-check", "type": "filter", "continue_if": "answers.budget | number > 5"}
    result = planned(flow(UPSERT, check), make_lead(budget="lots", **ADA))
    assert result.outcome is Outcome.FILTERED
    assert "'lots' is not a number" in (result.reason or "")
    assert len(result.calls) == 1
    assert len(result.problems) == 1


def test_a_bad_value_is_left_out_and_recorded_or_stops_the_run() -> None:
    lead = make_lead(full_name="Ada Lovelace", email="ada@example.com", phone_number="12ab")
    skipped = planned(flow(UPSERT), lead)
    assert skipped.outcome is Outcome.COMPLETE
    assert "phone" not in skipped.calls[0].body
    (problem,) = skipped.problems
    assert problem.message == "mapping phone: '12ab' is not a phone number for region US"
    assert (problem.step_id, problem.field, problem.value, problem.stopped) == (
        "contact",
        "phone",
        "'12ab'",
        False,
    )
    stopped = planned(flow({**UPSERT, "on_error": "stop"}), lead)
    assert stopped.outcome is Outcome.STOPPED
    assert stopped.reason == "mapping phone: '12ab' is not a phone number for region US"
    assert stopped.actions == ()
    assert stopped.problems[0].stopped


def test_emails_are_checked_even_without_the_email_formatter() -> None:
    result = planned(flow(UPSERT), make_lead(email="ada at example", phone_number="5125550142"))
    assert result.calls[0].body == {"locationId": "LOC", "phone": "+15125550142"}
    assert result.problems[0].message.startswith(
        "mapping email: 'ada at example' is not an email address"
    )


def test_a_lead_without_email_or_phone_stops_with_a_clear_reason() -> None:
    result = planned(
        flow(UPSERT, {"id": "n", "type": "add_note", "body": "x"}),
        make_lead(full_name="Ada Lovelace"),
    )
    assert result.outcome is Outcome.STOPPED
    assert result.reason == (
        "mapping email, phone: neither gave a usable value, and the contact is found or made "
        "by them"
    )
    assert result.actions == ()


def test_the_initial_stage_is_given_only_to_a_new_contact() -> None:
    lifecycle = {"stages": ["lead", "customer"], "custom_field": "contact.lifecycle_stage"}
    result = planned(flow({**UPSERT, "initial_stage": "lead"}, lifecycle=lifecycle))
    upsert, tag, field = result.calls
    assert (tag.id, tag.operation_id, tag.body) == (
        "contact.stage-tag",
        "add-tags",
        {"tags": ["stage:lead"]},
    )
    assert (field.operation_id, field.method, field.path) == (
        "update-contact",
        "PUT",
        f"/contacts/{CONTACT_ID}",
    )
    assert field.body == {
        "customFields": [{"key": "contact.lifecycle_stage", "field_value": "lead"}]
    }
    assert tag.only_if_new_contact
    assert field.only_if_new_contact
    assert not upsert.only_if_new_contact


def test_set_stage_moves_the_contact_out_of_the_other_stages() -> None:
    lifecycle = {"stages": ["lead", "qualified", "customer"], "tag_prefix": "lc-"}
    result = planned(
        flow(UPSERT, {"id": "q", "type": "set_stage", "stage": "qualified"}, lifecycle=lifecycle)
    )
    _, untag, tag = result.calls
    assert (untag.method, untag.body) == ("DELETE", {"tags": ["lc-lead", "lc-customer"]})
    assert (tag.method, tag.body) == ("POST", {"tags": ["lc-qualified"]})
    assert not tag.only_if_new_contact


def test_tags_are_computed_flattened_and_deduplicated() -> None:
    tags = {
        "id": "tags",
        "type": "add_tags",
        "tags": [
            "pinterest",
            "PINTEREST",
            "{{ answers['Rooms'] | slug | prefix('room:') }}",
            "{{ pinterest.campaign | slug | prefix('campaign:') }}",
            "{{ answers.nothing }}",
            " ",
        ],
    }
    lead = make_lead(Rooms=["Kitchen", "Bath Room"], **ADA)
    result = planned(flow(UPSERT, tags), lead, context=PinterestContext(campaign="Spring Sale"))
    assert result.calls[1].body == {
        "tags": ["pinterest", "room:kitchen", "room:bath-room", "campaign:spring-sale"]
    }
    nothing = planned(flow(UPSERT, {**tags, "tags": ["{{ answers.nothing }}"]}))
    assert len(nothing.calls) == 1


def test_tasks_are_due_in_hours_or_business_days_in_the_location_s_zone() -> None:
    task = {
        "id": "call",
        "type": "add_task",
        "title": "Call {{ contact.firstName }}",
        "body": "{{ lead.answers_text }}",
        "assignee": "{{ const.rep }}",
        "due": {"business_days": 1, "at": "09:30"},
    }
    later = {"id": "later", "type": "add_task", "title": "Quote", "due": {"hours": 2.5}}
    result = planned(
        flow(UPSERT, task, later, timezone="America/New_York", constants={"rep": "user123"})
    )
    _, call, quote = result.calls
    assert call.body == {
        "title": "Call Ada",
        "dueDate": "2026-03-09T13:30:00.000Z",
        "completed": False,
        "body": "Full name: Ada Lovelace\nEmail:  Ada@Example.com \nPhone number: 512 555 0142",
        "assignedTo": "user123",
    }
    assert quote.body == {
        "title": "Quote",
        "dueDate": "2026-03-06T22:30:00.000Z",
        "completed": False,
    }


def test_a_task_without_a_title_is_left_out_with_a_problem() -> None:
    task = {"id": "t", "type": "add_task", "title": "{{ answers.missing }}", "due": {"hours": 1}}
    result = planned(flow(UPSERT, task))
    assert len(result.calls) == 1
    assert result.problems[0].message == "mapping title: gave no text, so the task is left out"


def test_notes_carry_the_pinterest_context_or_say_it_is_unknown() -> None:
    note = {
        "id": "n",
        "type": "add_note",
        "title": "Pinterest lead",
        "body": "{{ pinterest.campaign | default('?') }} / {{ pinterest.ad_group | "
        "default('?') }} / {{ pinterest.ad | default('?') }} / {{ pinterest.form }}",
    }
    context = PinterestContext(campaign="Spring", ad_group="Austin", ad="Pin 1", form="Quote")
    result = planned(flow(UPSERT, note), context=context)
    assert result.calls[1].body == {
        "body": "Spring / Austin / Pin 1 / Quote",
        "title": "Pinterest lead",
    }
    unknown = planned(flow(UPSERT, note))
    assert unknown.calls[1].body == {"body": "? / ? / ? /", "title": "Pinterest lead"}


def test_lead_text_that_looks_like_the_placeholder_is_never_replaced() -> None:
    note = {"id": "n", "type": "add_note", "body": "{{ answers.comment }} for {{ contact.id }}"}
    result = planned(flow(UPSERT, note), make_lead(comment="{contact_id}", **ADA))
    call = result.calls[1]
    assert call.contact_id_at == ()
    assert call.resolved("abc").body == {"body": "{contact_id} for {contact_id}"}


def test_contacts_operations_fill_paths_queries_bodies_and_the_location() -> None:
    steps = (
        UPSERT,
        {
            "id": "wf",
            "type": "contacts_operation",
            "operation": "add-contact-to-workflow",
            "path": {"workflowId": "{{ answers.interest | lookup(workflows) }}"},
            "body": {"eventStartTime": "{{ lead.created_time | date('iso') }}"},
        },
        {
            "id": "dup",
            "type": "contacts_operation",
            "operation": "get-duplicate-contact",
            "query": {"email": "{{ contact.email }}"},
        },
        {
            "id": "bulk",
            "type": "contacts_operation",
            "operation": "create-association",
            "path": {"type": "add"},
            "body": {"contacts": ["{{ contact.id }}"], "tags": ["a/b"]},
        },
        {
            "id": "other",
            "type": "contacts_operation",
            "operation": "get-task",
            "path": {"contactId": "{{ const.someone }}", "taskId": "t/1 2"},
        },
    )
    result = planned(
        flow(*steps, lookups={"workflows": {"kitchen": "wf123"}}, constants={"someone": "c99"}),
        make_lead(interest="Kitchen", **ADA),
    )
    _, workflow, duplicate, bulk, other = result.calls
    assert (workflow.method, workflow.path) == ("POST", f"/contacts/{CONTACT_ID}/workflow/wf123")
    assert workflow.body == {"eventStartTime": "2026-03-06T19:58:00.000Z"}
    assert duplicate.path == "/contacts/search/duplicate"
    assert duplicate.query == {"email": "ada@example.com", "locationId": "LOC"}
    assert not duplicate.needs_contact_id
    assert bulk.body == {"contacts": [CONTACT_ID], "tags": ["a/b"], "locationId": "LOC"}
    assert bulk.contact_id_at == ("/contacts/0",)
    assert bulk.resolved("abc").body == {"contacts": ["abc"], "tags": ["a/b"], "locationId": "LOC"}
    assert other.path == "/contacts/c99/tasks/t%2F1%202"


def test_an_operation_without_its_path_value_is_left_out() -> None:
    step = {
        "id": "wf",
        "type": "contacts_operation",
        "operation": "add-contact-to-workflow",
        "path": {"workflowId": "{{ answers.interest | lookup(workflows) }}"},
    }
    result = planned(flow(UPSERT, step, lookups={"workflows": {}}))
    assert len(result.calls) == 1
    assert result.problems[0].message == (
        "mapping path.workflowId: gave no text, so the operation is left out"
    )


def test_enrich_writes_custom_fields_by_key_or_id() -> None:
    enrich = {
        "id": "prefs",
        "type": "enrich",
        "custom_fields": {
            "contact.interests": "{{ answers.Rooms }}",
            "id:Fx12": "{{ answers.budget | number }}",
            "contact.empty": "{{ answers.missing }}",
        },
    }
    result = planned(flow(UPSERT, enrich), make_lead(Rooms=["Kitchen"], budget="$1,500", **ADA))
    assert result.calls[1].body == {
        "customFields": [
            {"key": "contact.interests", "field_value": ["Kitchen"]},
            {"id": "Fx12", "field_value": 1500},
        ]
    }


def test_delays_are_waits() -> None:
    result = planned(flow(UPSERT, {"id": "pause", "type": "delay", "duration": "1h30m"}))
    assert result.actions[1] == Wait(id="pause", step_id="pause", seconds=5400)


def test_webhooks_send_the_standard_payload_signed_and_keyed() -> None:
    hook = {
        "id": "hook",
        "type": "webhook",
        "url": "https://example.com/in",
        "headers": {"Authorization": "Bearer x"},
    }
    result = planned(flow(UPSERT, hook), context=PinterestContext(campaign="Spring"))
    call = result.actions[1]
    assert isinstance(call, WebhookCall)
    assert call.body["flow"] == {"id": "flow_1", "version": 1}
    assert call.body["answers"]["email"] == " Ada@Example.com "
    assert call.body["pinterest"]["campaign"] == "Spring"
    assert call.body["lead"]["created_time"] == "2026-03-06T19:58:00.000Z"
    assert call.contact_id_at == ("/contact_id",)
    sent = call.resolved("abc")
    assert sent.body["contact_id"] == "abc"
    assert sent.headers["X-Leadwire-Delivery"] == call.idempotency_key
    assert sent.headers["X-Leadwire-Flow"] == "flow_1/v1"
    assert sent.headers["Authorization"] == "Bearer x"
    body = sent.body_bytes()
    header = signature_headers(body, "s3cret")["X-Leadwire-Signature"]
    assert header == sign_body(body, "s3cret")
    assert header.startswith("sha256=")
    assert verify_signature(body, "s3cret", header)
    assert not verify_signature(body + b" ", "s3cret", header)
    assert not verify_signature(body, "other", header)
    assert not verify_signature(body, "s3cret", None)


def test_webhook_bodies_can_be_templated() -> None:
    hook = {
        "id": "hook",
        "type": "webhook",
        "url": "https://example.com/in",
        "method": "PUT",
        "body": {"who": "{{ contact.email }}", "n": 3, "tags": ["{{ lead.id }}", True]},
    }
    call = planned(flow(UPSERT, hook)).actions[1]
    assert isinstance(call, WebhookCall)
    assert (call.method, call.body) == (
        "PUT",
        {"who": "ada@example.com", "n": 3, "tags": ["7001", True]},
    )


def test_a_crm_event_flow_acts_on_the_event_s_contact() -> None:
    version = FlowVersion(
        "flow_2",
        1,
        validate_data(
            {
                "name": "on task done",
                "trigger": {"type": "crm_event", "events": ["TaskComplete"]},
                "steps": [{"id": "thanks", "type": "add_note", "body": "Task done"}],
            }
        ),
    )
    (call,) = planned(version).calls
    assert call.path == f"/contacts/{CONTACT_ID}/notes"


def test_answers_are_read_by_type_label_and_alias() -> None:
    note = {
        "id": "n",
        "type": "add_note",
        "body": (
            "{{ answers.phone }}|{{ answers.PHONE_NUMBER }}|{{ answers['phone number'] }}|"
            "{{ answers['Which rooms'] | join('+') }}"
        ),
    }
    lead = make_lead(Which_rooms=["A", "B"], **ADA)
    body = planned(flow(UPSERT, note), lead).calls[1].body
    assert body == {"body": "512 555 0142|512 555 0142||A+B"}


def test_plans_are_deterministic() -> None:
    steps = (UPSERT, {"id": "t", "type": "add_task", "title": "x", "due": {"business_days": 2}})
    assert planned(flow(*steps)) == planned(flow(*steps))


def test_the_readme_style_example_reads_as_documented() -> None:
    """The example flow of docs/flows.md plans as the doc says."""
    text = (
        __import__("pathlib").Path(__file__).resolve().parents[2] / "docs" / "flows.md"
    ).read_text(encoding="utf-8")
    example = text.split("```yaml\n", 1)[1].split("```", 1)[0]
    version = FlowVersion("flow_doc", 1, validate_data(yaml.safe_load(example)))
    result = planned(version, make_lead(budget="$25,000+", **ADA))
    assert result.outcome is Outcome.COMPLETE
    assert [c.operation_id for c in result.calls if isinstance(c, CrmCall)][:2] == [
        "upsert-contact",
        "add-tags",
    ]
