"""Sandbox extension (not Pinterest's API): submit a lead as if a person filled in the form.

`POST /sandbox/ad_accounts/{ad_account_id}/lead_forms/{lead_form_id}/leads`, with a bearer token
of the account's owner (ads:write). Unlike `lead_forms/{id}/test`, the lead is a real one
(`is_test: false`), it is stored even when no subscription exists (it still shows in exports),
a CHECKBOX answer may be a list (options may hold commas), answers may be keyed by question, and
it may be dated in the past to fill an export's date range. Errors are Pinterest-shaped.

Body::

    {"answers": ["Ada", "ada@example.com", ["Kitchens", "Gardens"]]      # question order
     | {"FIRST_NAME": "Ada", "EMAIL": "...", "Interests": ["Kitchens"]},  # type or CUSTOM label
     "ad_id": "<digits>",            # optional: an ad of this account using this form
     "created_time": 1735689600000}  # optional: Unix milliseconds, not in the future

Answer: `{"lead_id": "<digits>", "subscription_ids": ["<digits>", ...]}`, the subscriptions
the lead is queued for (form-level first), in the order they will be sent.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import Path
from pydantic import Field, StrictInt
from sqlalchemy.orm import Session

from leadwire.sandbox.answers import pair_answers
from leadwire.sandbox.deps import WriteAccount, WriteDb
from leadwire.sandbox.errors import PinterestError, invalid
from leadwire.sandbox.gate import operation
from leadwire.sandbox.ids import DIGITS
from leadwire.sandbox.leads import (
    AdContext,
    Source,
    lead_ad_of,
    matching_subscriptions,
    record_lead,
)
from leadwire.sandbox.models import Ad, LeadForm, utcnow
from leadwire.sandbox.routes import api_router
from leadwire.sandbox.wire.inputs import Body, Text

SANDBOX_PREFIX = "/sandbox"
FORM_NOT_FOUND = 4842
# A little slack for a client whose clock runs ahead of ours.
FUTURE_SLACK = timedelta(minutes=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

router = api_router(prefix=SANDBOX_PREFIX, tags=["sandbox"])
FormId = Annotated[str, Path(pattern=DIGITS, description="Unique identifier of a lead form.")]
AnswerIn = Text | list[Text]


class SubmitLead(Body):
    """A lead as a person would submit it."""

    NOT_NULL = ("answers",)

    answers: (
        Annotated[list[AnswerIn], Field(max_length=100)]
        | Annotated[dict[str, AnswerIn], Field(max_length=100)]
    )
    ad_id: str | None = Field(default=None, pattern=DIGITS, max_length=18)
    created_time: StrictInt | None = Field(default=None, ge=0, le=10**14)


def _context(db: Session, form: LeadForm, ad_id: str | None) -> AdContext:
    if ad_id is None:
        return lead_ad_of(db, form)
    ad = db.get(Ad, ad_id)
    if ad is None or ad.ad_account_id != form.ad_account_id or ad.lead_form_id != form.id:
        raise invalid(
            1,
            f"Invalid parameters: ad {ad_id} is not an ad of this account that "
            "collects leads with this form.",
        )
    return AdContext(ad.id, ad.campaign_id, ad.ad_group_id)


def _created(created_ms: int | None) -> datetime | None:
    if created_ms is None:
        return None
    created = EPOCH + timedelta(milliseconds=created_ms)
    if created > utcnow() + FUTURE_SLACK:
        raise invalid(1, "Invalid parameters: created_time is in the future.")
    return created


@router.post(
    "/ad_accounts/{ad_account_id}/lead_forms/{lead_form_id}/leads",
    operation_id="sandbox/submit_lead",
    openapi_extra=operation("ads:write", "ads_write"),
)
def submit_lead(
    account: WriteAccount, db: WriteDb, lead_form_id: FormId, body: SubmitLead
) -> dict[str, Any]:
    """Record a lead for the form and queue it for every matching subscription."""
    form = db.get(LeadForm, lead_form_id)
    if form is None or form.ad_account_id != account.id:
        raise PinterestError(404, FORM_NOT_FOUND, "Lead form is not found.")
    try:
        answers = pair_answers(form.questions, body.answers)
    except ValueError as exc:
        raise invalid(1, f"Invalid parameters: {exc}") from None
    context = _context(db, form, body.ad_id)
    created = _created(body.created_time)
    lead = record_lead(
        db,
        ad_account_id=account.id,
        lead_form_id=form.id,
        answers=answers,
        source=Source.SUBMIT,
        context=context,
        created_time=created,
    )
    receivers = [s.id for s in matching_subscriptions(db, account.id, form.id)]
    db.commit()
    return {"lead_id": lead.id, "subscription_ids": receivers}
