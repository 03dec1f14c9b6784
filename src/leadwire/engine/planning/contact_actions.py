"""Actions on the contact: upsert, tags, tasks, notes, custom fields, lifecycle stage.

Bodies follow the Contacts API v2 DTOs: `UpsertContactDto`, `TagsDTO`, `CreateTaskParams`,
`NotesDTO`, `UpdateContactDto`; custom fields are written as `{"key"|"id", "field_value"}`.
Fields whose template gives nothing are left out rather than sent empty, so a lead without a
phone never clears the phone of the contact it updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time

from email_validator import EmailNotValidError, validate_email
from pydantic import JsonValue

from leadwire.engine.expressions import MappingError, Value, is_empty, to_json, to_text
from leadwire.engine.expressions.values import iso_datetime
from leadwire.engine.flows.document import FlowVersion, Lifecycle
from leadwire.engine.flows.steps import (
    AddNote,
    AddTags,
    AddTask,
    ContactField,
    Enrich,
    SetStage,
    StepBase,
    UpsertContact,
)
from leadwire.engine.flows.timing import due_in_business_days, due_in_hours
from leadwire.engine.planning.mapping import Mapper, Skipped
from leadwire.engine.planning.plan import CONTACT_ID, CrmCall, idempotency_key

CONTACT_PATH = f"/contacts/{CONTACT_ID}"
_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off"})


@dataclass(frozen=True)
class RunFacts:
    """What every action of one plan shares."""

    flow: FlowVersion
    lead_id: str
    location_id: str
    now: datetime

    def call(
        self,
        step: StepBase,
        suffix: str,
        operation_id: str,
        method: str,
        path: str,
        body: object,
        **extra: object,
    ) -> CrmCall:
        """Return a CRM call of `step` with its stable id and idempotency key.

        `body` is any JSON data; the call's model checks it.
        """
        action_id = f"{step.id}.{suffix}" if suffix else step.id
        key = idempotency_key(self.lead_id, self.flow.flow_id, self.flow.version, action_id)
        return CrmCall.model_validate(
            {
                "id": action_id,
                "step_id": step.id,
                "idempotency_key": key,
                "operation_id": operation_id,
                "method": method,
                "path": path,
                "body": body,
                **extra,
            }
        )


def _field_value(
    mapper: Mapper, step: StepBase, field: ContactField, value: Value
) -> str | bool | None:
    """Check a mapped value against what the contact field takes; None to leave it out."""
    if is_empty(value):
        return None
    if field is ContactField.DND:
        if isinstance(value, bool):
            return value
        word = to_text(value).strip().lower()
        if word in _TRUE | _FALSE:
            return word in _TRUE
        mapper.fail(step, MappingError(field.value, value, "is not true or false"))
        return None
    text = to_text(value).strip()
    if field is ContactField.EMAIL:
        try:
            validate_email(text, check_deliverability=False)
        except EmailNotValidError as exc:
            mapper.fail(step, MappingError(field.value, value, f"is not an email address ({exc})"))
            return None
    return text or None


def mapped_custom_fields(
    mapper: Mapper, step: StepBase, templates: dict[str, str]
) -> dict[str, Value]:
    """Return the custom field values (by key) whose templates give something."""
    values: dict[str, Value] = {}
    for key, source in templates.items():
        value = mapper.value(step, key, source)
        if not isinstance(value, Skipped) and not is_empty(value):
            values[key] = value
    return values


def custom_field(key: str, value: Value) -> JsonValue:
    """Return one `customFields` item: by id for `id:<field id>`, else by key."""
    data = to_json(value)
    if key.startswith("id:"):
        return {"id": key.removeprefix("id:"), "field_value": data}
    return {"key": key, "field_value": data}


def upsert_actions(mapper: Mapper, facts: RunFacts, step: UpsertContact) -> list[CrmCall]:
    """Return the upsert, then the initial stage (only for a contact it creates)."""
    body: dict[str, JsonValue] = {"locationId": facts.location_id}
    contact: dict[str, Value] = {"id": CONTACT_ID}
    for field, source in step.fields.items():
        value = mapper.value(step, field.value, source)
        checked = None if isinstance(value, Skipped) else _field_value(mapper, step, field, value)
        if mapper.is_stopped:
            return []
        if checked is not None:
            body[field.value] = checked
            contact[field.value] = checked
    values = mapped_custom_fields(mapper, step, step.custom_fields)
    if mapper.is_stopped:
        return []
    if values:
        body["customFields"] = [custom_field(key, value) for key, value in values.items()]
        contact["custom_fields"] = values
    if "email" not in body and "phone" not in body:
        mapper.stop(
            step,
            MappingError(
                "email, phone",
                None,
                "neither gave a usable value, and the contact is found or made by them",
            ),
        )
        return []
    mapper.scope["contact"] = contact
    calls = [
        facts.call(
            step, "", "upsert-contact", "POST", "/contacts/upsert", body, gives_contact_id=True
        )
    ]
    if step.initial_stage is not None:
        calls += stage_actions(
            facts, step, facts.flow.document.lifecycle, step.initial_stage, only_if_new=True
        )
    return calls


def stage_actions(
    facts: RunFacts, step: StepBase, lifecycle: Lifecycle, stage: str, *, only_if_new: bool = False
) -> list[CrmCall]:
    """Return the calls that put the contact in `stage` (tag and/or custom field)."""
    calls: list[CrmCall] = []
    extra = {"only_if_new_contact": only_if_new}
    others = [lifecycle.tag(s) for s in lifecycle.stages if s != stage]
    if lifecycle.as_tag and others and not only_if_new:
        calls.append(
            facts.call(
                step,
                "stage-untag",
                "remove-tags",
                "DELETE",
                f"{CONTACT_PATH}/tags",
                {"tags": others},
                **extra,
            )
        )
    if lifecycle.as_tag:
        calls.append(
            facts.call(
                step,
                "stage-tag",
                "add-tags",
                "POST",
                f"{CONTACT_PATH}/tags",
                {"tags": [lifecycle.tag(stage)]},
                **extra,
            )
        )
    if lifecycle.custom_field is not None:
        body = {"customFields": [custom_field(lifecycle.custom_field, stage)]}
        calls.append(
            facts.call(step, "stage-field", "update-contact", "PUT", CONTACT_PATH, body, **extra)
        )
    return calls


def set_stage_actions(mapper: Mapper, facts: RunFacts, step: SetStage) -> list[CrmCall]:
    """Return the calls of a set_stage step."""
    return stage_actions(facts, step, facts.flow.document.lifecycle, step.stage)


def tag_actions(mapper: Mapper, facts: RunFacts, step: AddTags) -> list[CrmCall]:
    """Return the add-tags call (none when no tag comes out non-empty)."""
    tags: list[str] = []
    for index, source in enumerate(step.tags):
        value = mapper.value(step, f"tags[{index}]", source)
        if isinstance(value, Skipped):
            continue
        for item in value if isinstance(value, list) else [value]:
            tag = to_text(item).strip()
            if tag and tag.casefold() not in {t.casefold() for t in tags}:
                tags.append(tag)
    if not tags or mapper.is_stopped:
        return []
    return [facts.call(step, "", "add-tags", "POST", f"{CONTACT_PATH}/tags", {"tags": tags})]


def _due(facts: RunFacts, step: AddTask) -> str:
    document, due = facts.flow.document, step.due
    if due.hours is not None:
        return iso_datetime(due_in_hours(facts.now, due.hours))
    at = time.fromisoformat(due.at) if due.at else None
    days = due.business_days or 0
    return iso_datetime(
        due_in_business_days(facts.now, days, document.zone, set(document.holidays), at)
    )


def task_actions(mapper: Mapper, facts: RunFacts, step: AddTask) -> list[CrmCall]:
    """Return the create-task call (none without a title)."""
    title = mapper.required_text(step, "title", step.title, "the task is left out")
    body_text = mapper.text(step, "body", step.body)
    assignee = mapper.text(step, "assignee", step.assignee)
    if title is None or mapper.is_stopped:
        return []
    body: dict[str, JsonValue] = {"title": title, "dueDate": _due(facts, step), "completed": False}
    if body_text is not None:
        body["body"] = body_text
    if assignee is not None:
        body["assignedTo"] = assignee
    return [facts.call(step, "", "create-task", "POST", f"{CONTACT_PATH}/tasks", body)]


def note_actions(mapper: Mapper, facts: RunFacts, step: AddNote) -> list[CrmCall]:
    """Return the create-note call (none without a body)."""
    text = mapper.required_text(step, "body", step.body, "the note is left out")
    title = mapper.text(step, "title", step.title)
    user_id = mapper.text(step, "user_id", step.user_id)
    if text is None or mapper.is_stopped:
        return []
    body: dict[str, JsonValue] = {"body": text}
    if title is not None:
        body["title"] = title
    if user_id is not None:
        body["userId"] = user_id
    return [facts.call(step, "", "create-note", "POST", f"{CONTACT_PATH}/notes", body)]


def enrich_actions(mapper: Mapper, facts: RunFacts, step: Enrich) -> list[CrmCall]:
    """Return the update-contact call writing the custom fields that have values."""
    values = mapped_custom_fields(mapper, step, step.custom_fields)
    if not values or mapper.is_stopped:
        return []
    items: list[JsonValue] = [custom_field(key, value) for key, value in values.items()]
    return [facts.call(step, "", "update-contact", "PUT", CONTACT_PATH, {"customFields": items})]
