"""Lead forms: list, bulk create, bulk update, get, and create a test lead."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Body, Path
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.sandbox.deps import ReadAccount, ReadDb, WriteAccount, WriteDb
from leadwire.sandbox.errors import PinterestError, invalid
from leadwire.sandbox.gate import operation
from leadwire.sandbox.ids import DIGITS, new_id
from leadwire.sandbox.leads import (
    Source,
    answers_for,
    lead_ad_of,
    matching_subscriptions,
    record_lead,
)
from leadwire.sandbox.models import AdAccount, LeadForm, utcnow
from leadwire.sandbox.paging import OrderedPage, fetch_page, page_body
from leadwire.sandbox.routes import API_PREFIX, api_router
from leadwire.sandbox.wire import inputs
from leadwire.sandbox.wire.forms import (
    BAD_FORM,
    FORM_NOT_FOUND,
    FormCreate,
    FormUpdate,
    apply_fields,
    form_problems,
    form_wire,
    item_failed,
    item_ok,
)
from leadwire.sandbox.wire.inputs import Text

router = api_router(prefix=API_PREFIX, tags=["lead_forms"])
FORMS_BAD = "Invalid ad account lead forms parameters."
FormId = Annotated[str, Path(pattern=DIGITS, description="Unique identifier of a lead form.")]
MAX_ANSWER_CHARS = 10_000


class TestLeadRequest(inputs.Body):
    """`LeadFormTestRequest`."""

    answers: list[Annotated[Text, Field(max_length=MAX_ANSWER_CHARS)]] = Field(max_length=100)


def _form_not_found() -> PinterestError:
    return PinterestError(404, FORM_NOT_FOUND, "Lead form is not found.")


def load_form(db: Session, account: AdAccount, lead_form_id: str) -> LeadForm:
    """Return the account's lead form; 404 code 4842 if it has no such form."""
    form = db.get(LeadForm, lead_form_id)
    if form is None or form.ad_account_id != account.id:
        raise _form_not_found()
    return form


@router.get(
    "/ad_accounts/{ad_account_id}/lead_forms",
    operation_id="lead_forms/list",
    openapi_extra=operation("ads:read", "ads_read", bad_code=400, bad_message=FORMS_BAD),
)
def list_lead_forms(account: ReadAccount, db: ReadDb, page: OrderedPage) -> dict[str, Any]:
    """List the account's lead forms, by id (ASCENDING unless `order` says otherwise)."""
    stmt = select(LeadForm).where(LeadForm.ad_account_id == account.id)
    rows, bookmark = fetch_page(db, stmt, LeadForm.id, page)
    return page_body([form_wire(f) for f in rows], bookmark)


@router.post(
    "/ad_accounts/{ad_account_id}/lead_forms",
    operation_id="lead_forms/create",
    openapi_extra=operation("ads:write", "ads_write", bad_code=400, bad_message=FORMS_BAD),
)
def create_lead_forms(
    account: WriteAccount,
    db: WriteDb,
    forms: Annotated[list[FormCreate], Body(min_length=1, max_length=30)],
) -> dict[str, Any]:
    """Create 1 to 30 forms; each item succeeds (`data`) or fails (`exceptions`) alone."""
    items: list[dict[str, Any]] = []
    now = utcnow()
    for fields in forms:
        problems = form_problems(fields, creating=True)
        if problems:
            items.append(item_failed(BAD_FORM, problems))
            continue
        form = LeadForm(
            id=new_id(),
            ad_account_id=account.id,
            status="DRAFT",
            has_accepted_terms=False,
            questions=[],
            policy_links=[],
            created_time=now,
            updated_time=now,
        )
        apply_fields(form, fields)
        db.add(form)
        items.append(item_ok(form))
    db.commit()
    return {"items": items}


@router.patch(
    "/ad_accounts/{ad_account_id}/lead_forms",
    operation_id="lead_forms/update",
    openapi_extra=operation("ads:write", "ads_write", bad_code=400, bad_message=FORMS_BAD),
)
def update_lead_forms(
    account: WriteAccount,
    db: WriteDb,
    forms: Annotated[list[FormUpdate], Body(min_length=1, max_length=30)],
) -> dict[str, Any]:
    """Update 1 to 30 forms by id; only the fields sent change."""
    items: list[dict[str, Any]] = []
    for fields in forms:
        form = db.get(LeadForm, fields.id)
        if form is None or form.ad_account_id != account.id:
            items.append(item_failed(FORM_NOT_FOUND, ["Lead form is not found."]))
            continue
        problems = form_problems(fields, creating=False)
        if problems:
            items.append(item_failed(BAD_FORM, problems))
            continue
        apply_fields(form, fields)
        form.updated_time = utcnow()
        items.append(item_ok(form))
    db.commit()
    return {"items": items}


@router.get(
    "/ad_accounts/{ad_account_id}/lead_forms/{lead_form_id}",
    operation_id="lead_form/get",
    openapi_extra=operation("ads:read", "ads_read", bad_code=1, bad_message=FORMS_BAD),
)
def get_lead_form(account: ReadAccount, db: ReadDb, lead_form_id: FormId) -> dict[str, Any]:
    """Return one lead form of the account."""
    return form_wire(load_form(db, account, lead_form_id))


@router.post(
    "/ad_accounts/{ad_account_id}/lead_forms/{lead_form_id}/test",
    operation_id="lead_form_test/create",
    openapi_extra=operation(
        "ads:write", "ads_write", bad_code=1, bad_message="Invalid parameters."
    ),
)
def create_test_lead(
    account: WriteAccount, db: WriteDb, lead_form_id: FormId, body: TestLeadRequest
) -> dict[str, Any]:
    """Record a test lead from answers in question order, to be delivered to the form's
    subscriptions; return the subscription that receives it (the form's own first).

    With no subscription for the form or its account there is nowhere to send the lead:
    404 code 4842, and nothing is recorded.
    """
    form = load_form(db, account, lead_form_id)
    try:
        answers = answers_for(form, body.answers)
    except ValueError as exc:
        raise invalid(1, f"Invalid parameters: {exc}") from None
    receivers = matching_subscriptions(db, account.id, form.id)
    if not receivers:
        raise PinterestError(
            404,
            FORM_NOT_FOUND,
            "No lead ads subscription for this lead form or its ad account: create one with "
            "POST /v5/ad_accounts/{ad_account_id}/leads/subscriptions first.",
        )
    record_lead(
        db,
        ad_account_id=account.id,
        lead_form_id=form.id,
        answers=answers,
        source=Source.TEST,
        is_test=True,
        context=lead_ad_of(db, form),
    )
    db.commit()
    return {"subscription_id": receivers[0].id}
