"""`Idempotency-Key` on creating POSTs — our extension to the HighLevel API.

The first response to a key is stored in the same transaction as what it created; the same
key from the same app and location within 24 h gets that response again and creates nothing.
The same key with a different request is refused with 422, as the IETF draft
`draft-ietf-httpapi-idempotency-key-header` advises.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from leadwire.crm.auth.principal import Principal
from leadwire.crm.errors import CrmError
from leadwire.crm.models import IdempotencyRecord, utcnow

HEADER = "Idempotency-Key"
LIFETIME = timedelta(hours=24)
MAX_KEY_LENGTH = 255

# The header as a route parameter: `key: IdempotencyKey = None`.
IdempotencyKey = Annotated[str | None, Header(alias=HEADER)]


def fingerprint(method: str, path: str, dto: BaseModel | None) -> str:
    """Return a stable digest of what a request asks for."""
    payload = dto.model_dump_json(exclude_unset=True) if dto is not None else ""
    return hashlib.sha256(f"{method} {path} {payload}".encode()).hexdigest()


def _owner(caller: Principal) -> str:
    return f"{caller.bucket}|{caller.location_id}"


def _check_key(key: str) -> None:
    if not 0 < len(key) <= MAX_KEY_LENGTH or not key.isascii() or not key.isprintable():
        raise CrmError(400, f"{HEADER} must be 1 to {MAX_KEY_LENGTH} printable ASCII characters")


def _replay(session: Session, owner: str, key: str, digest: str) -> JSONResponse | None:
    record = session.scalar(
        select(IdempotencyRecord).where(
            IdempotencyRecord.principal == owner, IdempotencyRecord.key == key
        )
    )
    if record is None:
        return None
    if record.date_added < utcnow() - LIFETIME:
        session.delete(record)
        session.flush()
        return None
    if record.fingerprint != digest:
        raise CrmError(
            422,
            [f"{HEADER} {key!r} was already used for a different request; use a new key"],
        )
    return JSONResponse(record.body, status_code=record.status_code)


def run_once(
    session: Session,
    caller: Principal,
    key: str | None,
    digest: str,
    create: Callable[[], tuple[int, dict[str, Any]]],
) -> JSONResponse:
    """Run `create` and commit, unless `key` was seen: then answer what was answered first."""
    if key is None:
        status, body = create()
        session.commit()
        return JSONResponse(body, status_code=status)
    _check_key(key)
    owner = _owner(caller)
    prior = _replay(session, owner, key, digest)
    if prior is not None:
        session.rollback()
        return prior
    status, body = create()
    session.add(
        IdempotencyRecord(
            principal=owner, key=key, fingerprint=digest, status_code=status, body=body
        )
    )
    try:
        session.commit()
    except IntegrityError:
        # A concurrent request with the same key committed first: answer as it did.
        session.rollback()
        prior = _replay(session, owner, key, digest)
        if prior is None:
            raise
        session.rollback()
        return prior
    return JSONResponse(body, status_code=status)


def prune(session: Session) -> int:
    """Delete records past their lifetime; return how many went."""
    result = session.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.date_added < utcnow() - LIFETIME)
    )
    return int(getattr(result, "rowcount", 0) or 0)
