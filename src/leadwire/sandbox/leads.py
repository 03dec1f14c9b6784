"""Recording a lead: the lead row and one pending delivery per matching subscription.

Every source of leads — the spec's test endpoint, the generator, any sandbox-only submit hook —
goes through `record_lead`, so a lead is never stored without its deliveries (same transaction).
The delivery worker (`deliveries.py`) picks up the pending rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.leads import FieldType, QuestionType
from leadwire.sandbox.ids import new_id
from leadwire.sandbox.models import Ad, Delivery, LeadForm, SandboxLead, Subscription, utcnow

ACCOUNT_LEVEL = "*"

# What a person sees next to each standard question (CUSTOM ones carry their own label).
QUESTION_LABELS = {
    QuestionType.FULL_NAME: "Full name",
    QuestionType.FIRST_NAME: "First name",
    QuestionType.LAST_NAME: "Last name",
    QuestionType.EMAIL: "Email",
    QuestionType.PHONE_NUMBER: "Phone number",
    QuestionType.ZIP_CODE: "ZIP code",
    QuestionType.GENDER: "Gender",
    QuestionType.CITY: "City",
    QuestionType.COUNTRY: "Country",
    QuestionType.STATE_PROVINCE: "State/Province",
    QuestionType.ADDRESS: "Address",
    QuestionType.DATE_OF_BIRTH: "Date of birth",
    QuestionType.AGE: "Age",
}


class Source:
    """Where a lead came from (stored on it)."""

    TEST = "test"
    SUBMIT = "submit"
    GENERATOR = "generator"


@dataclass(frozen=True, slots=True)
class AdContext:
    """The ad a lead came through, and its campaign and ad group (all None if none)."""

    ad_id: str | None = None
    campaign_id: str | None = None
    ad_group_id: str | None = None


def lead_ad_of(session: Session, form: LeadForm) -> AdContext:
    """Return the context of the form's first lead ad in its account, if it has one."""
    ad = session.scalar(
        select(Ad)
        .where(Ad.ad_account_id == form.ad_account_id, Ad.lead_form_id == form.id)
        .order_by(Ad.id)
        .limit(1)
    )
    if ad is None:
        return AdContext()
    return AdContext(ad.id, ad.campaign_id, ad.ad_group_id)


def answers_for(form: LeadForm, texts: Sequence[str]) -> list[dict[str, Any]]:
    """Pair answers with the form's questions, in question order; CHECKBOX text splits on `,`.

    Raises ValueError naming the first answer that does not fit its question.
    """
    if len(texts) != len(form.questions):
        raise ValueError(
            f"the form has {len(form.questions)} question(s) and {len(texts)} answer(s) were "
            "given; send one answer per question, in question order."
        )
    answers: list[dict[str, Any]] = []
    for index, (question, text) in enumerate(zip(form.questions, texts, strict=True)):
        kind = QuestionType(question["question_type"])
        field = question.get("custom_question_field_type")
        options = question.get("custom_question_options") or []
        value: str | list[str] = text
        if field == FieldType.CHECKBOX.value:
            value = [part.strip() for part in text.split(",") if part.strip()]
            wrong = [v for v in value if v not in options]
        else:
            wrong = [text] if field == FieldType.RADIO_LIST.value and text not in options else []
        if wrong:
            raise ValueError(
                f"answers[{index}] {', '.join(wrong)!r} is not an option of that question "
                f"({', '.join(options)})."
            )
        label = question.get("custom_question_label") or QUESTION_LABELS.get(kind)
        answers.append(
            {
                "question_type": kind.value,
                "custom_question_field_type": field,
                "question_label": label,
                "answer": value,
            }
        )
    return answers


def matching_subscriptions(
    session: Session, ad_account_id: str, lead_form_id: str
) -> list[Subscription]:
    """Return the subscriptions a lead of this form goes to: the form's, then the account's."""
    found = session.scalars(
        select(Subscription)
        .where(
            Subscription.ad_account_id == ad_account_id,
            or_(
                Subscription.lead_form_key == lead_form_id,
                Subscription.lead_form_key == ACCOUNT_LEVEL,
            ),
        )
        .order_by(Subscription.id)
    ).all()
    return sorted(found, key=lambda s: s.lead_form_key == ACCOUNT_LEVEL)


def record_lead(
    session: Session,
    *,
    ad_account_id: str,
    lead_form_id: str,
    answers: list[dict[str, Any]],
    source: str,
    is_test: bool = False,
    context: AdContext | None = None,
    created_time: datetime | None = None,
) -> SandboxLead:
    """Insert a lead and a pending delivery for every matching subscription. Caller commits."""
    context = context or AdContext()
    now = utcnow()
    lead = SandboxLead(
        id=new_id(),
        ad_account_id=ad_account_id,
        lead_form_id=lead_form_id,
        ad_id=context.ad_id,
        campaign_id=context.campaign_id,
        ad_group_id=context.ad_group_id,
        is_test=is_test,
        source=source,
        answers=answers,
        created_time=created_time or now,
    )
    session.add(lead)
    session.flush()
    for subscription in matching_subscriptions(session, ad_account_id, lead_form_id):
        session.add(
            Delivery(
                id=new_id(),
                subscription_id=subscription.id,
                lead_id=lead.id,
                status="pending",
                attempts=0,
                next_attempt_at=now,
                date_added=now,
            )
        )
    return lead
