"""A lead's answers: pairing given values with a form's questions, and reading stored ones back.

Stored answers (`SandboxLead.answers`) are dicts `{question_type, custom_question_field_type,
question_label, answer}` in question order, as `leads.answers_for` writes them. This module
builds the same dicts from richer input (a CHECKBOX answer as a list, or answers keyed by
question) and turns a stored lead into the connector's `Lead`, which both the webhook delivery
and the export file are written from, so the two always carry the same lead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from leadwire.connectors.pinterest.exports import QuestionColumn
from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    FieldType,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)
from leadwire.sandbox.leads import QUESTION_LABELS
from leadwire.sandbox.models import SandboxLead

MAX_ANSWER_CHARS = 10_000
Value = str | list[str]


def question_label(question: Mapping[str, Any]) -> str | None:
    """Return the label a person sees next to a stored question (as `answers_for` does)."""
    kind = QuestionType(question["question_type"])
    label: str | None = question.get("custom_question_label") or QUESTION_LABELS.get(kind)
    return label


def question_column(question: Mapping[str, Any]) -> QuestionColumn:
    """Return the export column of a stored question; its label is the delivery's label."""
    field = question.get("custom_question_field_type")
    return QuestionColumn(
        QuestionType(question["question_type"]),
        FieldType(field) if field else None,
        question_label(question),
    )


def question_key(question: Mapping[str, Any]) -> str:
    """Return the name answers may be keyed by: the type, or a CUSTOM question's label."""
    if question["question_type"] == QuestionType.CUSTOM.value:
        return str(question.get("custom_question_label") or "")
    return str(question["question_type"])


def _checked(index: int, question: Mapping[str, Any], value: Value) -> Value:
    where = f"answers[{index}] ({question_key(question)})"
    field = question.get("custom_question_field_type")
    options: list[str] = question.get("custom_question_options") or []
    if field == FieldType.CHECKBOX.value:
        chosen = [value] if isinstance(value, str) else value
        if not chosen:
            raise ValueError(f"{where}: choose at least one option.")
        if len(set(chosen)) != len(chosen):
            raise ValueError(f"{where}: an option is chosen twice.")
        wrong = [v for v in chosen if v not in options]
        if wrong:
            raise ValueError(f"{where}: {wrong[0]!r} is not one of {options}.")
        return list(chosen)
    if not isinstance(value, str):
        raise ValueError(f"{where}: only a CHECKBOX question takes a list of answers.")
    if not value.strip():
        raise ValueError(f"{where}: the answer is empty.")
    if len(value) > MAX_ANSWER_CHARS:
        raise ValueError(f"{where}: the answer is longer than {MAX_ANSWER_CHARS} characters.")
    if field == FieldType.RADIO_LIST.value and value not in options:
        raise ValueError(f"{where}: {value!r} is not one of {options}.")
    return value


def pair_answers(
    questions: Sequence[Mapping[str, Any]], values: Sequence[Value] | Mapping[str, Value]
) -> list[dict[str, Any]]:
    """Return stored answers for every question, from values in question order or keyed.

    Keys are question types (`EMAIL`) for standard questions and labels for CUSTOM ones,
    matched case-insensitively. Every question needs an answer, as on a real lead form.
    Raises ValueError naming the first answer that does not fit.
    """
    if isinstance(values, Mapping):
        values = _ordered(questions, values)
    if len(values) != len(questions):
        raise ValueError(
            f"the form has {len(questions)} question(s) and {len(values)} answer(s) were "
            "given; send one answer per question, in question order."
        )
    return [
        {
            "question_type": question["question_type"],
            "custom_question_field_type": question.get("custom_question_field_type"),
            "question_label": question_label(question),
            "answer": _checked(index, question, value),
        }
        for index, (question, value) in enumerate(zip(questions, values, strict=True))
    ]


def _ordered(questions: Sequence[Mapping[str, Any]], keyed: Mapping[str, Value]) -> list[Value]:
    by_key = {key.casefold(): value for key, value in keyed.items()}
    if len(by_key) != len(keyed):
        raise ValueError("two answers are keyed by the same question.")
    names = [question_key(q) for q in questions]
    if len({n.casefold() for n in names}) != len(names):
        raise ValueError("two questions of this form share a name; send answers in order.")
    known = {n.casefold() for n in names}
    unknown = [key for key in keyed if key.casefold() not in known]
    if unknown:
        raise ValueError(f"no question of this form is named {unknown[0]!r} (names: {names}).")
    missing = [n for n in names if n.casefold() not in by_key]
    if missing:
        raise ValueError(f"question {missing[0]!r} has no answer.")
    return [by_key[n.casefold()] for n in names]


def _answer(stored: Mapping[str, Any]) -> Answer | None:
    raw = stored.get("answer")
    values = tuple(raw) if isinstance(raw, list) else (str(raw) if raw is not None else "",)
    if not any(values):
        # An empty answer is no answer: an export cell cannot tell the two apart, and the
        # delivery must carry the same lead as the export.
        return None
    field = stored.get("custom_question_field_type")
    return Answer(
        question_type=QuestionType(stored["question_type"]),
        label=stored.get("question_label"),
        values=values,
        field_type=FieldType(field) if field else None,
    )


def lead_of(row: SandboxLead) -> Lead:
    """Return a stored lead as the connector's `Lead` (the lead a receiver decodes)."""
    answers = [a for a in (_answer(s) for s in row.answers) if a is not None]
    return Lead(
        lead_id=LeadId(row.id),
        ad_account_id=AdAccountId(row.ad_account_id),
        lead_form_id=LeadFormId(row.lead_form_id),
        created_time=row.created_time,
        ad_id=row.ad_id,
        campaign_id=row.campaign_id,
        ad_group_id=row.ad_group_id,
        is_test=row.is_test,
        answers=tuple(answers),
    )
