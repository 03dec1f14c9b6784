"""The deliveries table as the dispatcher sees it: claim due rows, record outcomes, wake-ups.

A claim is a lease: in one short transaction it moves `next_attempt_at` one lease ahead and
counts the attempt, so no other dispatcher (in this process or another) sees the row as due
while it is being sent; if the sender dies, the row is due again when the lease runs out
(at-least-once). PostgreSQL claimers skip each other's locked rows (`FOR UPDATE SKIP LOCKED`);
SQLite serialises writers anyway (write sessions begin IMMEDIATE). `attempts` doubles as a
fencing token: an outcome is recorded only if the row still carries the attempt number of the
claim that produced it.

Wake-ups: when a transaction that added a `Delivery` commits, every dispatcher of this process
is woken at once (`subscribe`), so a lead goes out in milliseconds rather than one poll later.
`record_lead` needs no help for that: the session events below notice the new rows.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, event, select, update
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.leads import Lead
from leadwire.sandbox.answers import lead_of
from leadwire.sandbox.models import Delivery, SandboxLead, Subscription
from leadwire.sandbox.retries import RetryPolicy, Verdict, retry_delay_s
from leadwire.sandbox.store import SandboxStore

log = logging.getLogger(__name__)

MAX_ERROR_CHARS = 500
D = Delivery


@dataclass(frozen=True)
class Job:
    """A claimed delivery: the lead (None if its stored form cannot be read), where it goes,
    the subscription's sealed key, and which attempt this is."""

    id: str
    subscription_id: str
    url: str
    lead: Lead | None = field(repr=False)
    sealed_key: bytes = field(repr=False)
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """What came of one attempt."""

    verdict: Verdict
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(D.status == "pending", D.next_attempt_at <= now)


def has_due(store: SandboxStore, now: datetime) -> bool:
    """Tell whether any delivery is due, without taking SQLite's write lock."""
    with store.read_sessions() as session:
        return session.scalar(select(D.id).where(_due(now)).limit(1)) is not None


def claim_due(store: SandboxStore, now: datetime, lease_s: float, limit: int) -> list[Job]:
    """Lease up to `limit` due deliveries, oldest due first, and return them."""
    if limit <= 0 or not has_due(store, now):
        return []
    with store.sessions() as session:
        ids = session.scalars(
            select(D.id)
            .where(_due(now))
            .order_by(D.next_attempt_at, D.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        if not ids:
            session.rollback()
            return []
        rows = session.execute(
            update(D)
            .where(D.id.in_(ids), _due(now))
            .values(next_attempt_at=now + timedelta(seconds=lease_s), attempts=D.attempts + 1)
            .returning(D.id, D.subscription_id, D.lead_id, D.attempts),
            execution_options={"synchronize_session": False},
        ).all()
        subscriptions = {
            s.id: s
            for s in session.scalars(
                select(Subscription).where(Subscription.id.in_({r.subscription_id for r in rows}))
            )
        }
        leads = {
            lead.id: lead
            for lead in session.scalars(
                select(SandboxLead).where(SandboxLead.id.in_({r.lead_id for r in rows}))
            )
        }
        session.commit()
    return [
        Job(
            row.id,
            row.subscription_id,
            subscriptions[row.subscription_id].webhook_url,
            _readable(leads[row.lead_id]),
            subscriptions[row.subscription_id].key_ciphertext,
            row.attempts,
        )
        for row in rows
        if row.subscription_id in subscriptions and row.lead_id in leads
    ]


def _readable(row: SandboxLead) -> Lead | None:
    try:
        return lead_of(row)
    except (KeyError, TypeError, ValueError):
        # Stored by hand or by an older version: fail this delivery, keep claiming the rest.
        log.exception("sandbox.delivery_lead_unreadable lead_id=%s", row.id)
        return None


def record(
    store: SandboxStore,
    job: Job,
    outcome: Outcome,
    policy: RetryPolicy,
    now: datetime,
    unit_random: Callable[[], float],
) -> Verdict:
    """Store the outcome of `job`'s attempt; return what the delivery became."""
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
    with store.sessions() as session:
        session.execute(
            update(D)
            .where(D.id == job.id, D.status == "pending", D.attempts == job.attempt)
            .values(**values),
            execution_options={"synchronize_session": False},
        )
        session.commit()
    return verdict


# Wake-ups: in-process only; other processes' dispatchers find new rows by polling.

_QUEUED = "leadwire.sandbox.deliveries.queued"
_listeners: set[Callable[[], None]] = set()
_lock = threading.Lock()


def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` (from any thread) after each commit that queued deliveries; return the
    unsubscribe function."""
    with _lock:
        _listeners.add(wake)

    def unsubscribe() -> None:
        with _lock:
            _listeners.discard(wake)

    return unsubscribe


def notify() -> None:
    """Wake every subscribed dispatcher now."""
    with _lock:
        listeners = list(_listeners)
    for wake in listeners:
        try:
            wake()
        except RuntimeError:
            # The dispatcher's event loop is closing; it will not need waking again.
            log.debug("sandbox.delivery_wake_skipped reason=loop_closed")


@event.listens_for(Session, "pending_to_persistent")
def _on_insert(session: Session, instance: object) -> None:
    if isinstance(instance, Delivery):
        session.info[_QUEUED] = True


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        notify()


@event.listens_for(Session, "after_soft_rollback")
def _after_rollback(session: Session, previous_transaction: object) -> None:
    session.info.pop(_QUEUED, None)
