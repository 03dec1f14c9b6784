"""Reading the bench's leads back from the engine's database: are they done, and when.

Times come from the run rows the engine writes (`lw_runs`, `lw_run_steps`): `received_at`
(intake's commit), the first CRM call's `started_at`, and `finished_at` (when the run's last
call returned). The bench process shares the machine's clock with the workers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, create_engine, func, select

from leadwire.engine.runtime.journal import RUNS, STEPS
from leadwire.store.models.runs import RunStatus

DONE = (RunStatus.SUCCEEDED.value, RunStatus.NEEDS_ATTENTION.value)
_CHUNK = 500


@contextmanager
def reader(database_url: str) -> Iterator[Engine]:
    """Yield an engine on the engine's database for the bench's reads."""
    url = database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        yield engine
    finally:
        engine.dispose()


def _chunks(items: Sequence[str]) -> Iterator[Sequence[str]]:
    for i in range(0, len(items), _CHUNK):
        yield items[i : i + _CHUNK]


def count_done(engine: Engine, lead_ids: Sequence[str]) -> int:
    """Return how many of `lead_ids` have a run that ended (succeeded or needs attention)."""
    done = 0
    with engine.connect() as conn:
        for chunk in _chunks(lead_ids):
            query = (
                select(func.count())
                .select_from(RUNS)
                .where(RUNS.c.lead_id.in_(chunk), RUNS.c.status.in_(DONE))
            )
            done += int(conn.scalar(query) or 0)
    return done


def wait_done(engine: Engine, lead_ids: Sequence[str], *, timeout_s: float) -> int:
    """Wait until every lead's run ended (or `timeout_s`); return how many did."""
    deadline = time.monotonic() + timeout_s
    while True:
        done = count_done(engine, lead_ids)
        if done >= len(lead_ids) or time.monotonic() > deadline:
            return done
        time.sleep(0.2)


@dataclass(frozen=True)
class RunTimes:
    """When one lead's run was recorded, first called the CRM, and finished."""

    lead_id: str
    status: str
    received_at: datetime
    first_call_at: datetime | None
    finished_at: datetime | None
    attempts: int


def run_times(engine: Engine, lead_ids: Sequence[str]) -> list[RunTimes]:
    """Return the timings of the runs of `lead_ids` (one flow: one run per lead)."""
    found: list[RunTimes] = []
    first_call = (
        select(STEPS.c.run_id, func.min(STEPS.c.started_at).label("first"))
        .group_by(STEPS.c.run_id)
        .subquery()
    )
    with engine.connect() as conn:
        for chunk in _chunks(lead_ids):
            rows = conn.execute(
                select(
                    RUNS.c.lead_id,
                    RUNS.c.status,
                    RUNS.c.received_at,
                    first_call.c.first,
                    RUNS.c.finished_at,
                    RUNS.c.attempts,
                )
                .outerjoin(first_call, first_call.c.run_id == RUNS.c.run_id)
                .where(RUNS.c.lead_id.in_(chunk))
            ).all()
            found += [RunTimes(*row) for row in rows]
    return found


def status_counts(engine: Engine) -> dict[str, int]:
    """Return how many runs are in each status."""
    with engine.connect() as conn:
        rows = conn.execute(select(RUNS.c.status, func.count()).group_by(RUNS.c.status)).all()
    return {str(status): int(n) for status, n in rows}
