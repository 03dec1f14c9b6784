"""`/api/runs` and `/api/health`: search runs, one run's timeline, counts by status."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request

from leadwire.engine.history import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorError,
    RunFilter,
    RunPage,
    Timeline,
    count_runs,
    load_timeline,
    read_run_lead,
    search_runs,
)
from leadwire.store.models.runs import RunStatus
from leadwire.web.deps import require_token, services_of
from leadwire.web.errors import ApiError
from leadwire.web.wire import HealthOut

router = APIRouter(prefix="/api", dependencies=[Depends(require_token)])


@router.get("/runs")
def list_runs(
    request: Request,
    lead_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    email: Annotated[str | None, Query(min_length=1, max_length=320)] = None,
    status: RunStatus | None = None,
    flow_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
    cursor: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
) -> RunPage:
    """Return runs, newest first, matching every filter given; `cursor` continues a listing."""
    wanted = RunFilter(
        lead_id=lead_id, email=email, status=status, flow_id=flow_id, limit=limit, cursor=cursor
    )
    with services_of(request).store.read_sessions() as session:
        try:
            return search_runs(session, wanted)
        except CursorError as exc:
            raise ApiError(422, f"query parameter 'cursor': {exc}") from None


@router.get("/runs/{run_id}")
def show_run(request: Request, run_id: str) -> Timeline:
    """Return a run's timeline: received, the lead, each step, and its inbox item if any."""
    services = services_of(request)
    with services.store.read_sessions() as session:
        timeline = load_timeline(session, run_id)
    if timeline is None:
        raise ApiError(404, f"no run {run_id!r}")
    return replace(timeline, lead=read_run_lead(services.intake.client, run_id))


@router.get("/health")
def health(request: Request) -> HealthOut:
    """Say the process is up and its database answers, with runs counted by status."""
    with services_of(request).store.read_sessions() as session:
        return HealthOut.of(count_runs(session))
