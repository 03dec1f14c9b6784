"""FastAPI dependencies of the sandbox: sessions, the caller, and the ad account in the path."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Path, Request
from sqlalchemy.orm import Session

from leadwire.sandbox.errors import PinterestError, auth_failed, forbidden
from leadwire.sandbox.ids import DIGITS
from leadwire.sandbox.models import AdAccount
from leadwire.sandbox.oauth import Caller
from leadwire.sandbox.runtime import SandboxRuntime


def runtime(request: Request) -> SandboxRuntime:
    """Return the running sandbox's shared parts."""
    rt: SandboxRuntime = request.app.state.sandbox
    return rt


def write_session(request: Request) -> Iterator[Session]:
    """Yield a session that may write; the handler commits."""
    with runtime(request).store.sessions() as session:
        yield session


def read_session(request: Request) -> Iterator[Session]:
    """Yield a session for reading only (never takes SQLite's write lock)."""
    with runtime(request).store.read_sessions() as session:
        yield session


def caller(request: Request) -> Caller:
    """Return the caller `PinterestRoute` authenticated."""
    found = getattr(request.state, "caller", None)
    if not isinstance(found, Caller):
        raise auth_failed()
    return found


Runtime = Annotated[SandboxRuntime, Depends(runtime)]
ReadDb = Annotated[Session, Depends(read_session)]
WriteDb = Annotated[Session, Depends(write_session)]
CallerDep = Annotated[Caller, Depends(caller)]
AccountId = Annotated[
    str, Path(pattern=DIGITS, max_length=18, description="Unique identifier of an ad account.")
]


def load_account(db: Session, who: Caller, ad_account_id: str) -> AdAccount:
    """Return the ad account if the caller's user owns it: 404 if unknown, 403 if foreign."""
    account = db.get(AdAccount, ad_account_id)
    if account is None:
        raise PinterestError(404, 404, "Ad account not found.")
    if who.user_id is None or account.owner_id != who.user_id:
        raise forbidden()
    return account


def _read_account(ad_account_id: AccountId, who: CallerDep, db: ReadDb) -> AdAccount:
    return load_account(db, who, ad_account_id)


def _write_account(ad_account_id: AccountId, who: CallerDep, db: WriteDb) -> AdAccount:
    return load_account(db, who, ad_account_id)


ReadAccount = Annotated[AdAccount, Depends(_read_account)]
WriteAccount = Annotated[AdAccount, Depends(_write_account)]
