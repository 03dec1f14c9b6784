"""Sandbox extension (not Pinterest's API): the webhook delivery log of an ad account.

`GET /sandbox/deliveries?ad_account_id=...` with a bearer token of the account's owner
(ads:read); optional `subscription_id`, `lead_id`, `status` (pending, delivered, failed), and
Pinterest's `page_size` / `bookmark` paging, newest first. Each item says where a lead stands:
attempts, the last HTTP status or error, when it is tried next or was delivered (Unix ms).
Keys and answers never appear; `last_error` may quote the start of the receiver's own answer.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import Query
from sqlalchemy import Select
from sqlalchemy.orm import Session

from leadwire.sandbox.deliveries import log_query
from leadwire.sandbox.deps import CallerDep, ReadDb, load_account
from leadwire.sandbox.gate import operation
from leadwire.sandbox.ids import DIGITS
from leadwire.sandbox.models import Delivery
from leadwire.sandbox.paging import Order, Page, PageRequest, fetch_page, page_body
from leadwire.sandbox.routes import api_router
from leadwire.sandbox.routes.submit import SANDBOX_PREFIX
from leadwire.sandbox.wire.inputs import millis

router = api_router(prefix=SANDBOX_PREFIX, tags=["sandbox"])
Status = Literal["pending", "delivered", "failed"]


def delivery_wire(delivery: Delivery) -> dict[str, Any]:
    """Return one delivery as the log shows it."""
    pending = delivery.status == "pending"
    return {
        "id": delivery.id,
        "lead_id": delivery.lead_id,
        "subscription_id": delivery.subscription_id,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_time": millis(delivery.date_added),
        "next_attempt_time": millis(delivery.next_attempt_at) if pending else None,
        "delivered_time": millis(delivery.delivered_at) if delivery.delivered_at else None,
    }


def _page(db: Session, query: Select[Delivery], page: PageRequest) -> dict[str, Any]:
    newest_first = PageRequest(page.size, page.bookmark, Order.DESCENDING)
    rows, bookmark = fetch_page(db, query, Delivery.id, newest_first)
    return page_body([delivery_wire(d) for d in rows], bookmark)


@router.get(
    "/deliveries",
    operation_id="sandbox/deliveries_list",
    openapi_extra=operation("ads:read", "ads_read"),
)
def list_deliveries(
    who: CallerDep,
    db: ReadDb,
    page: Page,
    ad_account_id: Annotated[str, Query(pattern=DIGITS, max_length=18)],
    subscription_id: Annotated[str | None, Query(pattern=DIGITS, max_length=18)] = None,
    lead_id: Annotated[str | None, Query(pattern=DIGITS, max_length=18)] = None,
    status: Annotated[Status | None, Query()] = None,
) -> dict[str, Any]:
    """List the account's webhook deliveries, newest first."""
    account = load_account(db, who, ad_account_id)
    query = log_query(
        ad_account_id=account.id,
        subscription_id=subscription_id,
        lead_id=lead_id,
        statuses=(status,) if status else (),
    )
    return _page(db, query, page)
