"""The `Lead` every source turns into: a webhook delivery, an export row, a sandbox lead."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import NewType

LeadId = NewType("LeadId", str)
AdAccountId = NewType("AdAccountId", str)
LeadFormId = NewType("LeadFormId", str)


class QuestionType(StrEnum):
    """`LeadFormQuestionType` of the Pinterest spec (5.23.0)."""

    CUSTOM = "CUSTOM"
    FULL_NAME = "FULL_NAME"
    FIRST_NAME = "FIRST_NAME"
    LAST_NAME = "LAST_NAME"
    EMAIL = "EMAIL"
    PHONE_NUMBER = "PHONE_NUMBER"
    ZIP_CODE = "ZIP_CODE"
    GENDER = "GENDER"
    CITY = "CITY"
    COUNTRY = "COUNTRY"
    STATE_PROVINCE = "STATE_PROVINCE"
    ADDRESS = "ADDRESS"
    DATE_OF_BIRTH = "DATE_OF_BIRTH"
    AGE = "AGE"


class FieldType(StrEnum):
    """`LeadFormQuestionFieldType` of the Pinterest spec, for CUSTOM questions."""

    TEXT_FIELD = "TEXT_FIELD"
    TEXT_AREA = "TEXT_AREA"
    RADIO_LIST = "RADIO_LIST"
    CHECKBOX = "CHECKBOX"


@dataclass(frozen=True, slots=True)
class Answer:
    """One answer with the question it answers; CHECKBOX answers hold several values."""

    question_type: QuestionType
    label: str | None
    values: tuple[str, ...]
    field_type: FieldType | None = None

    @property
    def value(self) -> str:
        """Return the answer as one string (several values joined by `, `)."""
        return ", ".join(self.values)


@dataclass(frozen=True, slots=True)
class Lead:
    """A lead with its Pinterest context ids and every answer, in question order."""

    lead_id: LeadId
    ad_account_id: AdAccountId
    lead_form_id: LeadFormId
    created_time: datetime
    ad_id: str | None = None
    campaign_id: str | None = None
    ad_group_id: str | None = None
    is_test: bool = False
    answers: tuple[Answer, ...] = field(default=())

    def answer(self, question_type: QuestionType) -> Answer | None:
        """Return the first answer to a question of `question_type`, if any."""
        return next((a for a in self.answers if a.question_type is question_type), None)

    def custom_answer(self, label: str) -> Answer | None:
        """Return the answer to the CUSTOM question labelled `label` (case-insensitive)."""
        wanted = label.casefold()
        return next(
            (
                a
                for a in self.answers
                if a.question_type is QuestionType.CUSTOM and (a.label or "").casefold() == wanted
            ),
            None,
        )
