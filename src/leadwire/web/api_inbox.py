"""`/api/inbox`: the needs-attention inbox — list it, replay one or many, dismiss one."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from leadwire.engine.history import (
    BulkReplay,
    ItemAction,
    Outcome,
    dismiss_item,
    replay_item,
    replay_open,
)
from leadwire.store.models.runs import InboxStatus
from leadwire.web.deps import require_token, services_of
from leadwire.web.errors import ApiError
from leadwire.web.wire import BulkReplayIn, InboxOut, ItemActionOut

router = APIRouter(prefix="/api/inbox", dependencies=[Depends(require_token)])


class InboxFilter(StrEnum):
    """Which items to list: open (the default), replayed, dismissed, or all."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISMISSED = "dismissed"
    ALL = "all"


@router.get("")
def list_inbox(
    request: Request,
    status: InboxFilter = InboxFilter.OPEN,
    flow_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> InboxOut:
    """Return inbox items, oldest failure first."""
    chosen = None if status is InboxFilter.ALL else InboxStatus(status.value)
    items = services_of(request).inbox.items(status=chosen, flow_id=flow_id, limit=limit)
    return InboxOut(items)


def _answer(action: ItemAction) -> ItemActionOut:
    if action.outcome is Outcome.NOT_FOUND:
        raise ApiError(404, action.message)
    if action.outcome is Outcome.NOT_OPEN:
        raise ApiError(409, action.message)
    assert action.status is not None
    return ItemActionOut(run_id=action.run_id, status=action.status, workflow_id=action.workflow_id)


@router.post("/replay")
def replay_many(request: Request, wanted: BulkReplayIn) -> BulkReplay:
    """Replay the open items of one flow, or of all flows, from their failed steps."""
    services = services_of(request)
    return replay_open(
        services.inbox, services.store.read_sessions, flow_id=wanted.flow_id, limit=wanted.limit
    )


@router.post("/{run_id}/replay")
def replay_one(request: Request, run_id: str) -> ItemActionOut:
    """Replay one open item from its failed step (409 if it is no longer open)."""
    services = services_of(request)
    return _answer(replay_item(services.inbox, services.store.read_sessions, run_id))


@router.post("/{run_id}/dismiss")
def dismiss_one(request: Request, run_id: str) -> ItemActionOut:
    """Close one open item without replaying it (409 if it is no longer open)."""
    services = services_of(request)
    return _answer(dismiss_item(services.inbox, services.store.read_sessions, run_id))
