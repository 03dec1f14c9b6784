"""The names templates read, built from a lead, its Pinterest context and the flow.

- `answers`: each answer by question type in lower case (`email`, `full_name`, `phone_number`,
  also `phone`) and by its label (`answers['What is your budget?']`); checkbox answers are lists.
- `lead`: `id`, `ad_account_id`, `form_id`, `ad_id`, `campaign_id`, `ad_group_id`,
  `created_time` (a date-time), `is_test`, `source` ("Pinterest Lead Ads") and `answers_text`
  (one "Label: answer" line per answer, for notes).
- `pinterest`: the names of the lead's `ad_account`, `campaign`, `ad_group`, `ad` and `form`
  (null when unknown).
- `contact` (after the upsert): `id` (the `{contact_id}` placeholder), the fields the flow sent,
  and `custom_fields` by key.
- `const`: the flow's constants; `now`: when the run started.

Runs that no lead started read other names instead of `answers`, `lead` and `pinterest` (an
expression that reads those gives a mapping problem there, never a crash):

- a CRM event's run: `event` — `type`, `event_id`, `location_id`, `contact_id` and every field
  of the event's body as the CRM sent it (`event.title`, `event.contactId`, `event.tags`);
  `contact` — `id`, the event's contact, known before the first step;
- a schedule's run: `schedule` — `due_at`, the due time it runs for.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from leadwire.connectors.pinterest.leads import Answer, FieldType, Lead, QuestionType
from leadwire.engine.expressions import Value
from leadwire.engine.planning.plan import CONTACT_ID

LEAD_SOURCE = "Pinterest Lead Ads"
_ALIASES = {QuestionType.PHONE_NUMBER: "phone"}


@dataclass(frozen=True, slots=True)
class PinterestContext:
    """Names of what a lead came through; any may be unknown (deleted ad, failed look-up)."""

    ad_account: str | None = None
    campaign: str | None = None
    ad_group: str | None = None
    ad: str | None = None
    form: str | None = None


def answer_value(answer: Answer) -> Value:
    """Return an answer as templates see it: a list for checkboxes, else its text."""
    if answer.field_type is FieldType.CHECKBOX:
        return list(answer.values)
    return answer.value


def answer_label(answer: Answer) -> str:
    """Return the label a person sees next to the answer's question."""
    return answer.label or answer.question_type.value.replace("_", " ").capitalize()


def answers_of(lead: Lead) -> dict[str, Value]:
    """Return the lead's answers by question type (lower case) and by label; the first wins."""
    found: dict[str, Value] = {}
    for answer in lead.answers:
        value = answer_value(answer)
        keys = [answer.label] if answer.label else []
        if answer.question_type is not QuestionType.CUSTOM:
            keys = [answer.question_type.value.lower(), *keys]
            if answer.question_type in _ALIASES:
                keys.append(_ALIASES[answer.question_type])
        for key in keys:
            found.setdefault(key, value)
    return found


def answers_text(lead: Lead) -> str:
    """Return one `Label: answer` line per answer."""
    return "\n".join(f"{answer_label(a)}: {a.value}" for a in lead.answers)


def lead_scope(
    lead: Lead,
    context: PinterestContext,
    now: datetime,
    constants: dict[str, str | int | float | bool | None],
) -> dict[str, Value]:
    """Return the names a template reads before the contact exists."""
    return {
        "answers": answers_of(lead),
        "lead": {
            "id": lead.lead_id,
            "ad_account_id": lead.ad_account_id,
            "form_id": lead.lead_form_id,
            "ad_id": lead.ad_id,
            "campaign_id": lead.campaign_id,
            "ad_group_id": lead.ad_group_id,
            "created_time": lead.created_time,
            "is_test": lead.is_test,
            "source": LEAD_SOURCE,
            "answers_text": answers_text(lead),
        },
        "pinterest": {
            "ad_account": context.ad_account,
            "campaign": context.campaign,
            "ad_group": context.ad_group,
            "ad": context.ad,
            "form": context.form,
        },
        "const": dict(constants),
        "now": now,
    }


def event_names(event: Mapping[str, Any]) -> dict[str, Value]:
    """Return the names a CRM event's run reads besides `const` and `now`.

    `event` is the run payload's event: `type`, `event_id`, `location_id`, `contact_id` and
    `body` (JSON data: every value is already a plain value templates can read).
    """
    body: dict[str, Value] = dict(event.get("body") or {})
    return {
        "event": {
            **body,
            "type": event.get("type"),
            "event_id": event.get("event_id"),
            "location_id": event.get("location_id"),
            "contact_id": event.get("contact_id"),
        },
        "contact": {"id": CONTACT_ID},
    }


def schedule_names(due_at: datetime) -> dict[str, Value]:
    """Return the names a schedule's run reads besides `const` and `now`."""
    return {"schedule": {"due_at": due_at}}
