"""Lead ads webhook subscriptions: list, create (with a fresh AES-256-GCM key), get, delete."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from fastapi import Path, Response
from pydantic import Field
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadwire.sandbox import keys
from leadwire.sandbox.deps import (
    CallerDep,
    ReadAccount,
    ReadDb,
    Runtime,
    WriteAccount,
    WriteDb,
)
from leadwire.sandbox.errors import PinterestError, invalid
from leadwire.sandbox.gate import operation
from leadwire.sandbox.ids import DIGITS, new_id
from leadwire.sandbox.leads import ACCOUNT_LEVEL
from leadwire.sandbox.models import AdAccount, LeadForm, Subscription, utcnow
from leadwire.sandbox.paging import Page, fetch_page, page_body
from leadwire.sandbox.routes import API_PREFIX, api_router
from leadwire.sandbox.wire.inputs import Body, Text, millis

router = api_router(prefix=API_PREFIX, tags=["lead_ads"])
ALGORITHM = "AES-256-GCM"
SubscriptionId = Annotated[
    str, Path(pattern=DIGITS, description="Unique identifier of a subscription.")
]
READ = operation("ads:read", "ads_read")
WRITE = operation("ads:write", "ads_write")


class PartnerMetadata(Body):
    """`partner_metadata`."""

    NOT_NULL = ("subscriber_key",)

    subscriber_key: Text | None = None


class SubscriptionCreate(Body):
    """`LeadSubscriptionPostParamsCreate`.

    The partner tokens are accepted and dropped: what Pinterest does with them is undocumented,
    and the sandbox keeps no third-party secret it has no use for.
    """

    NOT_NULL = (
        "lead_form_id",
        "partner_access_token",
        "partner_refresh_token",
        "partner_metadata",
    )

    webhook_url: Text
    lead_form_id: str | None = Field(default=None, pattern=DIGITS)
    partner_access_token: Text | None = None
    partner_refresh_token: Text | None = None
    partner_metadata: PartnerMetadata | None = None


def subscription_wire(subscription: Subscription, key_b64: str) -> dict[str, Any]:
    """Return a subscription as `LeadSubscription` (created_time in Unix milliseconds)."""
    return {
        "id": subscription.id,
        "ad_account_id": subscription.ad_account_id,
        "lead_form_id": subscription.lead_form_id,
        "webhook_url": subscription.webhook_url,
        "api_version": subscription.api_version,
        "created_time": millis(subscription.created_time),
        "cryptographic_key": key_b64,
        "cryptographic_algorithm": ALGORITHM,
        "user_account_id": subscription.user_account_id,
    }


def _wire(rt: Runtime, subscription: Subscription) -> dict[str, Any]:
    key = keys.unseal(rt.master_key, subscription.id, subscription.key_ciphertext)
    return subscription_wire(subscription, key)


def _load(db: Session, account: AdAccount, subscription_id: str) -> Subscription:
    found = db.get(Subscription, subscription_id)
    if found is None or found.ad_account_id != account.id:
        raise PinterestError(404, 404, "Subscription not found.")
    return found


def _check_url(url: str) -> None:
    parts = urlsplit(url)
    # Pinterest asks for HTTPS; the sandbox also takes http so that a local receiver can listen.
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise invalid(1, "Invalid parameters: webhook_url must be an http(s) URL.")


@router.get(
    "/ad_accounts/{ad_account_id}/leads/subscriptions",
    operation_id="ad_accounts_subscriptions/get_list",
    openapi_extra=READ,
)
def list_subscriptions(account: ReadAccount, db: ReadDb, rt: Runtime, page: Page) -> dict[str, Any]:
    """List the account's subscriptions, form-level and account-level, by id."""
    stmt = select(Subscription).where(Subscription.ad_account_id == account.id)
    rows, bookmark = fetch_page(db, stmt, Subscription.id, page)
    return page_body([_wire(rt, s) for s in rows], bookmark)


@router.post(
    "/ad_accounts/{ad_account_id}/leads/subscriptions",
    operation_id="ad_accounts_subscriptions/post",
    openapi_extra=WRITE,
)
def create_subscription(
    account: WriteAccount, db: WriteDb, rt: Runtime, who: CallerDep, body: SubscriptionCreate
) -> dict[str, Any]:
    """Subscribe a webhook to the leads of one form, or of the whole account (no form id).

    One subscription per (account, form) and one account-level subscription per account: a
    second one is a 400 naming the existing subscription (Pinterest's "only one integration
    per unique records").
    """
    _check_url(body.webhook_url)
    if body.lead_form_id is not None:
        form = db.get(LeadForm, body.lead_form_id)
        if form is None or form.ad_account_id != account.id:
            raise PinterestError(404, 4842, "Lead form is not found.")
    target = body.lead_form_id or ACCOUNT_LEVEL
    existing = db.scalar(
        select(Subscription.id).where(
            Subscription.ad_account_id == account.id, Subscription.lead_form_key == target
        )
    )
    if existing is not None:
        raise _duplicate(existing)
    subscription_id = new_id()
    key = keys.new_subscription_key()
    subscription = Subscription(
        id=subscription_id,
        ad_account_id=account.id,
        lead_form_id=body.lead_form_id,
        lead_form_key=target,
        webhook_url=body.webhook_url,
        api_version="v5",
        user_account_id=who.user_id or account.owner_id,
        key_ciphertext=keys.seal(rt.master_key, subscription_id, key),
        partner_metadata=body.partner_metadata.model_dump() if body.partner_metadata else {},
        created_time=utcnow(),
    )
    db.add(subscription)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise _duplicate(None) from None
    return subscription_wire(subscription, key)


def _duplicate(existing: str | None) -> PinterestError:
    which = f" (id {existing})" if existing else ""
    return invalid(
        1,
        f"Invalid parameters: a subscription{which} already exists for this ad account and "
        "lead form; delete it first or use it.",
    )


@router.get(
    "/ad_accounts/{ad_account_id}/leads/subscriptions/{subscription_id}",
    operation_id="ad_accounts_subscriptions/get_by_id",
    openapi_extra=operation("ads:read", "ads_read", client_ok=True),
)
def get_subscription(
    account: ReadAccount, db: ReadDb, rt: Runtime, subscription_id: SubscriptionId
) -> dict[str, Any]:
    """Return one subscription, with its key."""
    return _wire(rt, _load(db, account, subscription_id))


@router.delete(
    "/ad_accounts/{ad_account_id}/leads/subscriptions/{subscription_id}",
    operation_id="ad_accounts_subscriptions/del_by_id",
    openapi_extra=WRITE,
    status_code=204,
    response_class=Response,
)
def delete_subscription(
    account: WriteAccount, db: WriteDb, subscription_id: SubscriptionId
) -> Response:
    """Delete a subscription: no more deliveries to it (204, empty body)."""
    db.delete(_load(db, account, subscription_id))
    db.commit()
    return Response(status_code=204)
