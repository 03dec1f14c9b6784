"""An outbox table as a dispatcher sees it: lease due rows, record what came of each attempt.

A claim is a lease: in one short transaction it moves `next_attempt_at` one lease ahead and
counts the attempt, so no other dispatcher (in this process or another) sees the row as due
while it is being sent; if the sender dies, the row is due again when the lease runs out
(at-least-once). PostgreSQL claimers skip each other's locked rows (`FOR UPDATE SKIP LOCKED`);
SQLite serialises writers anyway (write sessions begin IMMEDIATE). `attempts` doubles as a
fencing token: an outcome is recorded only if the row still carries the attempt number of the
claim that produced it, so a sender whose lease ran out cannot overwrite its successor's result.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import ColumnElement, Row, and_, select, update
from sqlalchemy.orm import Mapped, QueryableAttribute, Session, sessionmaker

from leadwire.backoff import RetryPolicy, retry_delay_s

MAX_ERROR_CHARS = 500


class Verdict(StrEnum):
    """What an answer means for the delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    """What came of one attempt."""

    verdict: Verdict
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def classify(status_code: int, retried: Collection[int]) -> Verdict:
    """Return what an answer means: 2xx delivers, 5xx and `retried` retry, the rest fail."""
    if 200 <= status_code < 300:
        return Verdict.DELIVERED
    if status_code in retried or status_code >= 500:
        return Verdict.RETRY
    return Verdict.FAILED


class OutboxRow(Protocol):
    """The columns every outbox table has (the mapped class, not a row, is passed around)."""

    id: ClassVar[Mapped[str]]
    # pending -> delivered | failed
    status: ClassVar[Mapped[str]]
    attempts: ClassVar[Mapped[int]]
    next_attempt_at: ClassVar[Mapped[datetime]]
    last_status_code: ClassVar[Mapped[int | None]]
    last_error: ClassVar[Mapped[str | None]]
    delivered_at: ClassVar[Mapped[datetime | None]]


class Claimed(Protocol):
    """A leased row, as `record` needs it: which row, and the attempt number its claim took."""

    @property
    def id(self) -> str: ...

    @property
    def attempt(self) -> int: ...


class Sessions(Protocol):
    """A store: write sessions that take SQLite's lock at BEGIN, and read sessions that don't."""

    @property
    def sessions(self) -> sessionmaker[Session]: ...

    @property
    def read_sessions(self) -> sessionmaker[Session]: ...


J = TypeVar("J", bound=Claimed)
C = TypeVar("C")


@dataclass(frozen=True)
class OutboxTable(Generic[J, C]):
    """One outbox table: its mapped class, and how its leased rows become jobs.

    `returning` names the columns the claim reads back besides `id` and `attempts`. `fetch`
    reads what the jobs need besides (URLs, keys, ...) inside the claiming transaction; `build`
    makes the jobs once the leases are committed, so a row that cannot be built fails the poll
    without undoing the others' leases. Rows `build` drops stay leased, and are due again when
    the lease runs out. `also_due` narrows which pending rows are due.
    """

    model: type[OutboxRow]
    returning: tuple[QueryableAttribute[Any], ...]
    fetch: Callable[[Session, Sequence[Row[Any]]], C]
    build: Callable[[Sequence[Row[Any]], C], list[J]]
    also_due: ColumnElement[bool] | None = None

    def due(self, now: datetime) -> ColumnElement[bool]:
        """Return the condition of rows due at `now`."""
        conditions = [self.model.status == "pending", self.model.next_attempt_at <= now]
        if self.also_due is not None:
            conditions.append(self.also_due)
        return and_(*conditions)


def has_due(store: Sessions, table: OutboxTable[Any, Any], now: datetime) -> bool:
    """Tell whether any row is due, without taking SQLite's write lock."""
    with store.read_sessions() as session:
        found = session.scalar(select(table.model.id).where(table.due(now)).limit(1))
        return found is not None


def claim_due(
    store: Sessions, table: OutboxTable[J, Any], now: datetime, lease_s: float, limit: int
) -> list[J]:
    """Lease up to `limit` due rows, oldest due first, and return them as jobs."""
    if limit <= 0 or not has_due(store, table, now):
        return []
    model = table.model
    with store.sessions() as session:
        ids = session.scalars(
            select(model.id)
            .where(table.due(now))
            .order_by(model.next_attempt_at, model.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=model)
        ).all()
        if not ids:
            session.rollback()
            return []
        rows = session.execute(
            update(model)
            .where(model.id.in_(ids), model.status == "pending", model.next_attempt_at <= now)
            .values(next_attempt_at=now + timedelta(seconds=lease_s), attempts=model.attempts + 1)
            .returning(model.id, model.attempts, *table.returning),
            execution_options={"synchronize_session": False},
        ).all()
        fetched = table.fetch(session, rows)
        session.commit()
    return table.build(rows, fetched)


def record(
    store: Sessions,
    table: OutboxTable[J, Any],
    job: J,
    outcome: Outcome,
    policy: RetryPolicy,
    now: datetime,
    unit_random: Callable[[], float],
) -> Verdict:
    """Store the outcome of `job`'s attempt; return what the row became."""
    verdict = outcome.verdict
    error = (outcome.error or "")[:MAX_ERROR_CHARS] or None
    values: dict[str, Any] = {"last_status_code": outcome.status_code, "last_error": error}
    if verdict is Verdict.DELIVERED:
        values.update(status="delivered", delivered_at=now, last_error=None)
    elif verdict is Verdict.RETRY and job.attempt < policy.max_attempts:
        delay = retry_delay_s(job.attempt, policy, unit_random(), outcome.retry_after_s)
        values.update(next_attempt_at=now + timedelta(seconds=delay))
    else:
        verdict = Verdict.FAILED
        if outcome.verdict is Verdict.RETRY:
            values["last_error"] = f"gave up after {job.attempt} attempts: {error}"[
                :MAX_ERROR_CHARS
            ]
        values.update(status="failed")
    model = table.model
    with store.sessions() as session:
        session.execute(
            update(model)
            .where(model.id == job.id, model.status == "pending", model.attempts == job.attempt)
            .values(**values),
            execution_options={"synchronize_session": False},
        )
        session.commit()
    return verdict
