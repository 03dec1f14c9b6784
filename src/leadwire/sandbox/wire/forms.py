"""Lead forms on the wire: create and update requests in, `LeadFormResponse` out.

Two levels of refusal, as the spec's bulk operations imply. A body that violates the schema
(wrong types, more than 10 questions, more than 5 options, 0 or 31 forms) is a 400 for the whole
request. A form that is well-formed but cannot be saved (terms not accepted, a CUSTOM question
without a label, a RADIO_LIST without options, an unknown id) comes back as that item's
`exceptions`, with HTTP 200, while the other items are saved.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, StrictBool

from leadwire.connectors.pinterest.leads import FieldType, QuestionType
from leadwire.sandbox.ids import DIGITS
from leadwire.sandbox.models import LeadForm
from leadwire.sandbox.wire.inputs import Body, Text, seconds

BAD_FORM = 400
FORM_NOT_FOUND = 4842
_CHOICE_TYPES = (FieldType.RADIO_LIST, FieldType.CHECKBOX)


class QuestionIn(Body):
    """`LeadFormQuestion` (the spec requires none of its fields; a form needs the type)."""

    NOT_NULL = ("question_type",)

    question_type: QuestionType | None = None
    custom_question_field_type: FieldType | None = None
    custom_question_label: Text | None = None
    custom_question_options: list[Text] | None = Field(default=None, max_length=5)


class PolicyLinkIn(Body):
    """One of `policy_links`."""

    NOT_NULL = ("label", "link")

    label: Text | None = None
    link: Text | None = None


class FormFields(Body):
    """`LeadFormCommon`: every field optional (create requires some, see `FormCreate`)."""

    NOT_NULL = ("has_accepted_terms", "status", "questions", "policy_links")

    name: Text | None = None
    privacy_policy_link: Text | None = None
    has_accepted_terms: StrictBool | None = None
    completion_message: Text | None = None
    status: Literal["DRAFT", "ACTIVE"] | None = None
    disclosure_language: Text | None = None
    questions: list[QuestionIn] | None = Field(default=None, max_length=10)
    policy_links: list[PolicyLinkIn] | None = Field(default=None, max_length=3)


class FormCreate(FormFields):
    """`LeadFormCreateRequest`: these five are required (name, link and message may be null)."""

    name: Text | None
    questions: list[QuestionIn] = Field(max_length=10)
    privacy_policy_link: Text | None
    has_accepted_terms: StrictBool
    completion_message: Text | None


class FormUpdate(FormFields):
    """`LeadFormUpdateRequest`: the id, and the fields to change."""

    id: str = Field(pattern=DIGITS)


def _question_problems(questions: list[QuestionIn]) -> list[str]:
    problems: list[str] = []
    seen: set[QuestionType] = set()
    for index, q in enumerate(questions):
        where = f"questions[{index}]"
        if q.question_type is None:
            problems.append(f"{where}: question_type is required.")
            continue
        if q.question_type is not QuestionType.CUSTOM:
            if q.question_type in seen:
                problems.append(f"{where}: question_type {q.question_type} appears twice.")
            seen.add(q.question_type)
            continue
        if q.custom_question_field_type is None:
            problems.append(f"{where}: a CUSTOM question needs custom_question_field_type.")
        if not (q.custom_question_label or "").strip():
            problems.append(f"{where}: a CUSTOM question needs custom_question_label.")
        options = q.custom_question_options or []
        if q.custom_question_field_type in _CHOICE_TYPES and not options:
            problems.append(
                f"{where}: a {q.custom_question_field_type} question needs "
                "custom_question_options (1 to 5)."
            )
        if q.custom_question_field_type not in _CHOICE_TYPES and options:
            problems.append(
                f"{where}: custom_question_options are only for RADIO_LIST and CHECKBOX."
            )
    return problems


def form_problems(fields: FormFields, *, creating: bool) -> list[str]:
    """Return why these fields cannot be saved (empty if they can)."""
    problems: list[str] = []
    if creating and fields.has_accepted_terms is not True:
        problems.append("has_accepted_terms must be true to create a lead form.")
    for name in ("name", "privacy_policy_link", "completion_message"):
        value = getattr(fields, name)
        if name in fields.model_fields_set and (value is None or not value.strip()):
            problems.append(f"{name} must not be empty.")
    link = fields.privacy_policy_link
    if link and link.strip() and not link.startswith(("https://", "http://")):
        problems.append("privacy_policy_link must be an http(s) URL.")
    if fields.questions is not None:
        problems += _question_problems(fields.questions)
    for index, policy in enumerate(fields.policy_links or []):
        if not (policy.label or "").strip() or not (policy.link or "").strip():
            problems.append(f"policy_links[{index}] needs a label and a link.")
    return problems


def _stored_question(q: QuestionIn) -> dict[str, Any]:
    assert q.question_type is not None, "form_problems refuses questions without a type"
    if q.question_type is not QuestionType.CUSTOM:
        return {"question_type": q.question_type.value}
    return {
        "question_type": q.question_type.value,
        "custom_question_field_type": q.custom_question_field_type.value
        if q.custom_question_field_type
        else None,
        "custom_question_label": q.custom_question_label,
        "custom_question_options": list(q.custom_question_options or [])
        if q.custom_question_field_type in _CHOICE_TYPES
        else None,
    }


def apply_fields(form: LeadForm, fields: FormFields) -> None:
    """Copy the fields a client sent onto `form` (absent fields are left alone)."""
    sent = fields.model_fields_set
    for name in ("name", "privacy_policy_link", "completion_message", "disclosure_language"):
        if name in sent:
            setattr(form, name, getattr(fields, name))
    if fields.has_accepted_terms is not None:
        form.has_accepted_terms = fields.has_accepted_terms
    if fields.status is not None:
        form.status = fields.status
    if fields.questions is not None:
        form.questions = [_stored_question(q) for q in fields.questions]
    if fields.policy_links is not None:
        form.policy_links = [{"label": p.label, "link": p.link} for p in fields.policy_links]


def question_wire(stored: dict[str, Any]) -> dict[str, Any]:
    """Return a stored question as `LeadFormQuestion` (custom fields only on CUSTOM ones)."""
    wire: dict[str, Any] = {"question_type": stored["question_type"]}
    if stored["question_type"] == QuestionType.CUSTOM.value:
        wire["custom_question_field_type"] = stored.get("custom_question_field_type")
        wire["custom_question_label"] = stored.get("custom_question_label")
        wire["custom_question_options"] = stored.get("custom_question_options")
    return wire


def form_wire(form: LeadForm) -> dict[str, Any]:
    """Return a lead form as `LeadFormResponse` (times in Unix seconds)."""
    return {
        "id": form.id,
        "ad_account_id": form.ad_account_id,
        "name": form.name,
        "status": form.status,
        "privacy_policy_link": form.privacy_policy_link,
        "has_accepted_terms": form.has_accepted_terms,
        "completion_message": form.completion_message,
        "disclosure_language": form.disclosure_language,
        "questions": [question_wire(q) for q in form.questions],
        "policy_links": list(form.policy_links),
        "created_time": seconds(form.created_time),
        "updated_time": seconds(form.updated_time),
    }


def item_ok(form: LeadForm) -> dict[str, Any]:
    """Return one successful item of `LeadFormArrayResponse`."""
    return {"data": form_wire(form), "exceptions": []}


def item_failed(code: int, messages: list[str]) -> dict[str, Any]:
    """Return one refused item of `LeadFormArrayResponse` (no `data`: nothing was saved)."""
    return {"exceptions": [{"code": code, "message": m} for m in messages]}
