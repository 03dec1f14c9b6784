"""Leads for dry runs: the built-in sample, and leads read from a JSON file.

A lead file holds the clear fields of a Pinterest delivery, the decrypted answers in the
delivery's own shape, and optionally the names of its context::

    {"lead_id": "7001", "ad_account_id": "549755885175", "lead_form_id": "8001",
     "created_time": "2026-03-02T15:04:05Z",          # or Unix milliseconds
     "campaign_id": "626744128931", "ad_group_id": null, "ad_id": null, "is_test": false,
     "answers": [{"question_type": "EMAIL", "question_label": "Email", "answer": "a@example.com"},
                 {"question_type": "CUSTOM", "custom_question_field_type": "CHECKBOX",
                  "question_label": "Rooms", "answer": ["Kitchen", "Bath"]}],
     "context": {"campaign": "Spring remodel", "ad_group": "Kitchens", "ad": "Pin 1",
                 "form": "Quote request", "ad_account": "Acme Remodeling"}}

`advertiser_id` (the delivery's name) is accepted for `ad_account_id`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, ValidationError, field_validator

from leadwire.connectors.pinterest.leads import (
    AdAccountId,
    Answer,
    FieldType,
    Lead,
    LeadFormId,
    LeadId,
    QuestionType,
)
from leadwire.engine.planning.scope import PinterestContext

Digits = Annotated[str, Field(pattern=r"^[0-9]{1,32}$")]


class _AnswerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    question_type: QuestionType
    question_label: str | None = None
    custom_question_field_type: FieldType | None = None
    answer: str | list[str]


class _ContextFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ad_account: str | None = None
    campaign: str | None = None
    ad_group: str | None = None
    ad: str | None = None
    form: str | None = None


class _LeadFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    lead_id: Digits
    ad_account_id: Digits = Field(validation_alias=AliasChoices("ad_account_id", "advertiser_id"))
    lead_form_id: Digits
    created_time: datetime
    ad_id: Digits | None = None
    campaign_id: Digits | None = None
    ad_group_id: Digits | None = None
    is_test: bool = False
    answers: list[_AnswerFile] = Field(default_factory=list, max_length=200)
    context: _ContextFile = Field(default_factory=_ContextFile)

    @field_validator("created_time", mode="before")
    @classmethod
    def _epoch_ms(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):
            return datetime.fromtimestamp(value / 1000, UTC)
        return value

    @field_validator("created_time")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        return value if value.tzinfo else value.replace(tzinfo=UTC)


def read_lead(data: Any) -> tuple[Lead, PinterestContext]:
    """Return the lead and context in lead-file data; ValueError naming the first problem."""
    try:
        parsed = _LeadFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "(lead)"
        raise ValueError(f"{where}: {first['msg']}") from None
    answers = tuple(
        Answer(
            question_type=a.question_type,
            label=a.question_label,
            values=tuple(a.answer) if isinstance(a.answer, list) else (a.answer,),
            field_type=a.custom_question_field_type,
        )
        for a in parsed.answers
    )
    lead = Lead(
        lead_id=LeadId(parsed.lead_id),
        ad_account_id=AdAccountId(parsed.ad_account_id),
        lead_form_id=LeadFormId(parsed.lead_form_id),
        created_time=parsed.created_time,
        ad_id=parsed.ad_id,
        campaign_id=parsed.campaign_id,
        ad_group_id=parsed.ad_group_id,
        is_test=parsed.is_test,
        answers=answers,
    )
    return lead, PinterestContext(**parsed.context.model_dump())


SAMPLE_LEAD: dict[str, Any] = {
    "lead_id": "7000000000001",
    "ad_account_id": "549755885175",
    "lead_form_id": "8000000000001",
    "created_time": "2026-03-02T15:04:05Z",
    "ad_id": "687195905984",
    "campaign_id": "626744128931",
    "ad_group_id": "2680067491866",
    "answers": [
        {"question_type": "FULL_NAME", "question_label": "Full name", "answer": "Ada Lovelace"},
        {
            "question_type": "EMAIL",
            "question_label": "Email",
            "answer": " Ada.Lovelace@Example.com",
        },
        {
            "question_type": "PHONE_NUMBER",
            "question_label": "Phone number",
            "answer": "(512) 555-0142",
        },
        {"question_type": "ZIP_CODE", "question_label": "ZIP code", "answer": "78701"},
        {
            "question_type": "CUSTOM",
            "custom_question_field_type": "RADIO_LIST",
            "question_label": "What is your budget?",
            "answer": "$10,000 - $25,000",
        },
        {
            "question_type": "CUSTOM",
            "custom_question_field_type": "CHECKBOX",
            "question_label": "Which rooms?",
            "answer": ["Kitchen", "Bathroom"],
        },
    ],
    "context": {
        "ad_account": "Acme Remodeling",
        "campaign": "Spring remodel 2026",
        "ad_group": "Austin homeowners",
        "ad": "Kitchen before-after pin",
        "form": "Free quote request",
    },
}


def lead_data(lead: Lead, context: PinterestContext | None = None) -> dict[str, Any]:
    """Return `lead` in the lead-file format `read_lead` reads (how runs store their lead)."""
    data: dict[str, Any] = {
        "lead_id": lead.lead_id,
        "ad_account_id": lead.ad_account_id,
        "lead_form_id": lead.lead_form_id,
        "created_time": lead.created_time.astimezone(UTC).isoformat(),
        "ad_id": lead.ad_id,
        "campaign_id": lead.campaign_id,
        "ad_group_id": lead.ad_group_id,
        "is_test": lead.is_test,
        "answers": [
            {
                "question_type": a.question_type.value,
                "question_label": a.label,
                "custom_question_field_type": None if a.field_type is None else a.field_type.value,
                "answer": list(a.values) if a.field_type is FieldType.CHECKBOX else a.value,
            }
            for a in lead.answers
        ],
    }
    if context is not None:
        data["context"] = {
            "ad_account": context.ad_account,
            "campaign": context.campaign,
            "ad_group": context.ad_group,
            "ad": context.ad,
            "form": context.form,
        }
    return data


def sample_lead() -> tuple[Lead, PinterestContext]:
    """Return the built-in sample lead (fictional: example.com, a 555-01xx number)."""
    return read_lead(SAMPLE_LEAD)
