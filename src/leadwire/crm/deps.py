"""FastAPI dependencies of the Contacts API: sessions, the caller, scopes, location checks.

They are `async def` on purpose: none of them waits on I/O (a session connects lazily, in the
handler's thread), and FastAPI runs every sync dependency in the thread pool — one hop each,
which cost more than the whole of `GET /contacts/{id}`'s own work.

For the same reason the point reads (one contact, its tasks, notes, appointments) are `async`
handlers that query on the event loop: on WAL SQLite a read never waits for a lock and takes
tens of microseconds, and on PostgreSQL it is one indexed round trip. Lists, searches and every
write stay sync handlers in the thread pool: they may scan, or wait for the writer lock.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from leadwire.crm.auth.principal import READ, WRITE, Principal
from leadwire.crm.errors import FOREIGN_LOCATION, CrmError
from leadwire.crm.ids import is_valid_id
from leadwire.crm.runtime import CrmRuntime


async def runtime(request: Request) -> CrmRuntime:
    """Return the running CRM's shared parts."""
    return _runtime(request)


def _runtime(request: Request) -> CrmRuntime:
    rt: CrmRuntime = request.app.state.crm
    return rt


async def write_session(request: Request) -> AsyncIterator[Session]:
    """Yield a session that may write; the handler commits."""
    with _runtime(request).store.sessions() as session:
        yield session


async def read_session(request: Request) -> AsyncIterator[Session]:
    """Yield a session for reading only (never takes SQLite's write lock)."""
    with _runtime(request).store.read_sessions() as session:
        yield session


async def principal(request: Request) -> Principal:
    """Return the caller the gate authenticated."""
    found = request.scope.get("state", {}).get("principal")
    if not isinstance(found, Principal):
        raise CrmError(401, "Invalid token: access token is invalid")
    return found


def _scoped(scope: str) -> object:
    async def check(caller: Annotated[Principal, Depends(principal)]) -> Principal:
        if not caller.has_scope(scope):
            raise CrmError(401, f"The token is not authorized for this scope: needs {scope}")
        return caller

    return check


async def trace_id(request: Request) -> str:
    """Return the trace id the gate gave this request."""
    value: str = request.scope.get("state", {}).get("trace_id", "")
    return value


Reader = Annotated[Principal, Depends(_scoped(READ))]
Writer = Annotated[Principal, Depends(_scoped(WRITE))]
ReadDb = Annotated[Session, Depends(read_session)]
WriteDb = Annotated[Session, Depends(write_session)]
Runtime = Annotated[CrmRuntime, Depends(runtime)]
TraceId = Annotated[str, Depends(trace_id)]


def check_location(caller: Principal, location_id: str | None) -> str:
    """Return `location_id` if the caller may use it; 403 if missing or foreign."""
    if not location_id or location_id != caller.location_id:
        raise CrmError(403, FOREIGN_LOCATION)
    return location_id


def check_id(name: str, value: str) -> str:
    """Return `value` if it has the shape of an id; 400 naming the parameter if not."""
    if not is_valid_id(value):
        raise CrmError(400, f"{name} {value!r} is not a valid id (20 letters and digits)")
    return value
