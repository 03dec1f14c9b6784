"""Flow documents: YAML and JSON, problems with place and line, the schema, the catalog tables."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, time
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import jsonschema_rs
import pytest
import yaml

from leadwire.connectors.pinterest.leads import AdAccountId, Lead, LeadFormId, LeadId
from leadwire.crm.events import EventType
from leadwire.engine.flows import (
    FlowValidationError,
    dump_flow,
    flow_json_schema,
    flow_json_schema_text,
    load_flow,
    template_names,
    template_text,
)
from leadwire.engine.flows.catalog import OPERATIONS, CrmEvent
from leadwire.engine.flows.library import load_template
from leadwire.engine.flows.timing import check_cron, due_in_business_days, duration_s
from leadwire.engine.flows.triggers import PinterestLeadTrigger

ROOT = Path(__file__).resolve().parents[2]
MINIMAL = """\
name: Minimal
trigger: {type: manual}
steps:
  - id: contact
    type: upsert_contact
    fields:
      email: "{{ answers.email | email }}"
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(FlowValidationError) as caught:
        load_flow(text)
    return [str(problem) for problem in caught.value.problems]


def test_yaml_and_json_give_the_same_flow() -> None:
    document = load_flow(MINIMAL)
    assert load_flow(json.dumps(document.to_data())) == document
    assert load_flow(dump_flow(document)) == document
    assert document.to_data()["format"] == 1


def test_shape_problems_name_the_path_and_line() -> None:
    text = """\
name: Broken
trigger:
  type: schedule
  cron: "61 * * * *"
steps:
  - id: contact
    type: upsert_contact
    fields:
      email: "{{ answers.email }}"
      favouriteColour: "{{ answers.colour }}"
  - id: task
    type: add_task
    title: Call
    due:
      hours: 2
      business_days: 1
  - id: Bad-Id
    type: add_note
    body: hi
  - id: wait
    type: delay
    duration: soon
"""
    found = problems_of(text)
    assert found == [
        "line 4: trigger.cron: minute 61 is outside 0-59",
        "line 10: steps[0].fields.favouriteColour: Input should be 'firstName', 'lastName', "
        "'name', 'email', 'phone', 'address1', 'city', 'state', 'postalCode', 'country', "
        "'website', 'timezone', 'companyName', 'source', 'dateOfBirth', 'gender', "
        "'assignedTo' or 'dnd'",
        "line 14: steps[1].due: give exactly one of `hours` and `business_days`",
        "line 17: steps[2].id: String should match pattern '^[a-z][a-z0-9_-]{0,62}$'",
        "line 22: steps[3].duration: String should match pattern "
        "'^(\\d+d)?(\\d+h)?(\\d+m)?(\\d+s)?$'",
    ]


def test_meaning_problems_name_the_path_line_and_column() -> None:
    text = """\
name: Meaning
lookups:
  tiers: {a: b}
lifecycle:
  stages: [lead, customer]
trigger: {type: pinterest_lead}
steps:
  - id: tags-first
    type: add_tags
    tags: [early]
  - id: contact
    type: upsert_contact
    fields:
      firstName: "{{ answers.name | splitname.first }}"
      lastName: "{{ answers.name | lookup(tier) }}"
    initial_stage: prospect
  - id: contact
    type: add_note
    body: "{{ contact.id ~ anwsers.x }}"
  - id: route
    type: route
    rules:
      - when: "answers.budget >"
        steps:
          - id: again
            type: upsert_contact
            fields: {phone: "{{ answers.phone }}"}
  - id: op
    type: contacts_operation
    operation: add-contact-to-workflw
  - id: op2
    type: contacts_operation
    operation: add-contact-to-campaign
    path: {campaign: x}
    query: {limit: "5"}
  - id: get
    type: contacts_operation
    operation: get-contact
    body: {a: 1}
  - id: hook
    type: webhook
    url: https://example.com/hook
    headers: {X-Leadwire-Signature: forged}
"""
    found = problems_of(text)
    assert found == [
        "line 8: steps[0]: add_tags needs the contact: put an upsert_contact step before it",
        "line 13: steps[1].fields: map email or phone: the contact is found or made by them",
        "line 14: steps[1].fields.firstName: there is no formatter 'splitname' (formatters: "
        "date, default, digits, e164, email, first, join, last, length, lookup, lower, number, "
        "prefix, replace, slug, split, split_name, string, suffix, title, trim, truncate, upper) "
        "at column 19",
        "line 15: steps[1].fields.lastName: there is no look-up table 'tier' (tiers) at column 26",
        "line 16: steps[1].initial_stage: 'prospect' is not a stage of lifecycle.stages "
        "(lead, customer)",
        "line 17: steps[2].id: id 'contact' is already used at steps[1]",
        "line 19: steps[2].body: there is no name 'anwsers' (names: answers, lead, pinterest, "
        "contact, const, now) at column 17",
        "line 23: steps[3].rules[0].when: expected a value but found the end of the expression "
        "at column 17",
        "line 25: steps[3].rules[0].steps[0]: upsert_contact goes at the top level of the flow, "
        "not in a route",
        "line 30: steps[4].operation: 'add-contact-to-workflw' is not in the Contacts catalog; "
        "did you mean 'add-contact-to-workflow'?",
        "line 34: steps[5].path.campaign: add-contact-to-campaign has no path parameter",
        "line 34: steps[5].path: add-contact-to-campaign needs path parameter 'campaignId'",
        "line 35: steps[5].query.limit: not a query parameter (allowed: none)",
        "line 39: steps[6].body: GET /contacts/{contactId} takes no body",
        "line 43: steps[7].headers['X-Leadwire-Signature']: this header is set by leadwire",
    ]


def test_contact_is_readable_only_after_the_upsert() -> None:
    text = MINIMAL.replace(
        "steps:\n", 'steps:\n  - {id: early, type: filter, continue_if: "contact.email exists"}\n'
    )
    assert problems_of(text) == [
        "line 4: steps[0].continue_if: 'contact' is known only after the upsert_contact step "
        "at column 1"
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[1, 2]", "(document): a flow is a mapping (name, trigger, steps, ...)"),
        ("name: [unclosed", "line 1: (document): not YAML or JSON: expected ',' or ']', but got"),
        ("a: &x [1]\nb: *x\n", "line 2: (document): YAML aliases (*name) are not supported"),
        ('{"name": "x", "trigger": {"type": "manual"}}', "line 1: steps: Field required"),
        ("name: x\ntrigger: {type: carrier_pigeon}\nsteps: []", "line 2: trigger: Input tag"),
    ],
)
def test_unreadable_documents_say_why(text: str, expected: str) -> None:
    assert problems_of(text)[0].startswith(expected)


def test_time_zone_and_holidays_are_checked() -> None:
    assert problems_of("timezone: Mars/Base\n" + MINIMAL) == [
        "line 1: timezone: 'Mars/Base' is not a time zone (e.g. America/New_York)"
    ]
    document = load_flow("holidays: [2026-12-25]\ntimezone: Europe/Paris\n" + MINIMAL)
    assert document.holidays == [date(2026, 12, 25)]
    assert document.zone == ZoneInfo("Europe/Paris")


def test_the_published_schema_file_is_the_generated_one() -> None:
    on_disk = (ROOT / "docs" / "flow.schema.json").read_text(encoding="utf-8")
    assert on_disk == flow_json_schema_text(), (
        "run: leadwire flows schema --output docs/flow.schema.json"
    )


@pytest.mark.parametrize("name", template_names())
def test_the_json_schema_accepts_every_template(name: str) -> None:
    validator = jsonschema_rs.validator_for(flow_json_schema())
    assert list(validator.iter_errors(load_template(name).to_data())) == []
    assert validator.is_valid(yaml.safe_load(template_text(name)))


@pytest.mark.parametrize(
    ("document", "path"),
    [
        ({"trigger": {"type": "manual"}, "steps": []}, []),
        (
            {
                "name": "x",
                "trigger": {"type": "manual"},
                "steps": [{"id": "A", "type": "add_tags"}],
            },
            ["steps", 0],
        ),
        ({"name": "x", "trigger": {"type": "fax"}, "steps": []}, ["trigger"]),
        ({"name": "x", "trigger": {"type": "manual"}, "steps": [], "colour": "red"}, []),
        (
            {"name": "x", "trigger": {"type": "manual"}, "steps": [], "lifecycle": {"stages": [1]}},
            ["lifecycle", "stages", 0],
        ),
    ],
)
def test_the_json_schema_rejects_bad_documents_with_their_path(
    document: dict[str, object], path: list[str | int]
) -> None:
    errors = list(jsonschema_rs.validator_for(flow_json_schema()).iter_errors(document))
    assert errors
    assert path in [list(error.instance_path) for error in errors]


def test_the_catalog_is_the_reference_s_operations() -> None:
    spec_file = resources.files("leadwire.crm.spec").joinpath("contacts-v2.openapi.json")
    spec = json.loads(spec_file.read_text(encoding="utf-8"))
    reference = {}
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "delete", "patch"):
                query = tuple(
                    p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
                )
                reference[operation["operationId"]] = (
                    method.upper(),
                    path,
                    query,
                    "requestBody" in operation,
                )
    ours = {
        op.operation_id: (op.method, op.path, op.query, op.has_body) for op in OPERATIONS.values()
    }
    assert len(ours) == 32
    assert ours == reference


def test_the_event_types_are_the_crm_s() -> None:
    assert [event.value for event in CrmEvent] == [event.value for event in EventType]


def _lead(form: str = "22", account: str = "11", *, is_test: bool = False) -> Lead:
    return Lead(
        LeadId("1"),
        AdAccountId(account),
        LeadFormId(form),
        datetime(2026, 1, 1, tzinfo=UTC),
        is_test=is_test,
    )


def test_pinterest_triggers_match_by_account_form_and_test_flag() -> None:
    any_lead = PinterestLeadTrigger(type="pinterest_lead")
    by_account = PinterestLeadTrigger(type="pinterest_lead", ad_account_id="11")
    by_form = PinterestLeadTrigger(type="pinterest_lead", lead_form_ids=["22", "23"])
    no_tests = PinterestLeadTrigger(type="pinterest_lead", include_test_leads=False)
    assert any_lead.matches(_lead())
    assert any_lead.matches(_lead(account="99"))
    assert by_account.matches(_lead())
    assert not by_account.matches(_lead(account="12"))
    assert by_form.matches(_lead(form="23"))
    assert not by_form.matches(_lead(form="24"))
    assert no_tests.matches(_lead())
    assert not no_tests.matches(_lead(is_test=True))


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("0 9 * * MON-FRI", None),
        ("*/15 * * * *", None),
        ("0 0 1,15 jan-jun 0", None),
        ("0 9 * *", "must have 5 fields"),
        ("0 24 * * *", "hour 24 is outside 0-23"),
        ("0 9 * * FRI-MON", "runs backwards"),
        ("*/0 * * * *", "step '0' must be a number above 0"),
        ("0 9 ,1 * *", "has an empty item"),
        ("x 9 * * *", "minute 'x' is not a number"),
    ],
)
def test_cron_lines(line: str, problem: str | None) -> None:
    if problem is None:
        assert check_cron(line) == line
        return
    with pytest.raises(ValueError, match=problem):
        check_cron(line)


def test_durations() -> None:
    assert duration_s("90s") == 90
    assert duration_s("1d12h") == 129_600
    assert duration_s("2h30m") == 9_000
    for bad in ("", "0s", "h", "1w", "366d", "2m1h"):
        with pytest.raises(ValueError, match=r"duration|at most|more than"):
            duration_s(bad)


def test_business_days_skip_weekends_and_holidays_in_the_location_s_zone() -> None:
    new_york = ZoneInfo("America/New_York")
    friday_evening = datetime(2026, 3, 6, 23, 30, tzinfo=UTC)  # 18:30 Friday in New York
    monday = due_in_business_days(friday_evening, 1, new_york)
    assert monday == datetime(2026, 3, 9, 18, 30, tzinfo=new_york)
    assert due_in_business_days(friday_evening, 1, new_york, {date(2026, 3, 9)}, time(9, 30)) == (
        datetime(2026, 3, 10, 9, 30, tzinfo=new_york)
    )
    saturday = datetime(2026, 3, 7, 15, 0, tzinfo=UTC)
    assert due_in_business_days(saturday, 0, new_york, at=time(9)).date() == date(2026, 3, 9)
    # 03:30 UTC on Saturday is still Friday in New York: one business day later is Monday.
    assert due_in_business_days(datetime(2026, 3, 7, 3, 30, tzinfo=UTC), 1, new_york).date() == (
        date(2026, 3, 9)
    )
