"""Ad accounts: list the caller's, and get one."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query
from sqlalchemy import select

from leadwire.sandbox.deps import CallerDep, ReadAccount, ReadDb
from leadwire.sandbox.gate import operation
from leadwire.sandbox.models import AdAccount, UserAccount
from leadwire.sandbox.paging import Page, fetch_page, page_body
from leadwire.sandbox.routes import API_PREFIX, api_router
from leadwire.sandbox.wire.context import account_wire

router = api_router(prefix=API_PREFIX, tags=["ad_accounts"])
READ = operation("ads:read", "ads_read", client_ok=True)


@router.get("/ad_accounts", operation_id="ad_accounts/list", openapi_extra=READ)
def list_ad_accounts(
    who: CallerDep,
    db: ReadDb,
    page: Page,
    include_shared_accounts: Annotated[bool, Query()] = True,
) -> dict[str, Any]:
    """List the ad accounts the token's user owns (the sandbox has no Business Access)."""
    owner = db.get(UserAccount, who.user_id) if who.user_id else None
    if owner is None:
        return page_body([], None)
    stmt = select(AdAccount).where(AdAccount.owner_id == owner.id)
    rows, bookmark = fetch_page(db, stmt, AdAccount.id, page)
    return page_body([account_wire(a, owner) for a in rows], bookmark)


@router.get("/ad_accounts/{ad_account_id}", operation_id="ad_accounts/get", openapi_extra=READ)
def get_ad_account(account: ReadAccount, db: ReadDb) -> dict[str, Any]:
    """Return one ad account."""
    owner = db.get(UserAccount, account.owner_id)
    assert owner is not None
    return account_wire(account, owner)
