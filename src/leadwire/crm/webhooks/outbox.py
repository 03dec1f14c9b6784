"""The outbox table as the dispatcher sees it: claim due deliveries, record outcomes, prune.

A claim is a lease: it moves `next_attempt_at` one lease ahead and counts the attempt, in one
short transaction, so no other dispatcher sees the row as due while it is being sent; if the
sender dies, the row is due again when the lease runs out (at-least-once). PostgreSQL claimers
skip each other's locked rows (`FOR UPDATE SKIP LOCKED`); SQLite serialises writers anyway.
`attempts` doubles as a fencing token: an outcome is recorded only if the row still carries the
attempt number of the claim that produced it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, delete, select, update

from leadwire.crm import idempotency
from leadwire.crm.models import WebhookDelivery, WebhookSubscription
from leadwire.crm.store import CrmStore
from leadwire.crm.webhooks.retries import RetryPolicy, Verdict, retry_delay_s

log = logging.getLogger(__name__)

# Delivered rows are kept a week for `webhook deliveries`; failed ones a month, to be looked at.
DELIVERED_RETENTION = timedelta(days=7)
FAILED_RETENTION = timedelta(days=30)
MAX_ERROR_CHARS = 500

D = WebhookDelivery


@dataclass(frozen=True)
class Job:
    """A claimed delivery: what to send, where, and which attempt this is."""

    id: str
    event_type: str
    url: str
    payload: dict[str, Any]
    attempt: int


@dataclass(frozen=True)
class Outcome:
    """What came of one attempt."""

    verdict: Verdict
    status_code: int | None = None
    error: str | None = None
    retry_after_s: float | None = None


def _due(now: datetime) -> ColumnElement[bool]:
    active = select(WebhookSubscription.id).where(WebhookSubscription.is_active.is_(True))
    return and_(D.status == "pending", D.next_attempt_at <= now, D.subscription_id.in_(active))


def has_due(store: CrmStore, now: datetime) -> bool:
    """Tell whether any delivery is due, without taking SQLite's write lock."""
    with store.read_sessions() as session:
        return session.scalar(select(D.id).where(_due(now)).limit(1)) is not None


def claim_due(store: CrmStore, now: datetime, lease_s: float, limit: int) -> list[Job]:
    """Lease up to `limit` due deliveries, oldest due first, and return them."""
    if limit <= 0 or not has_due(store, now):
        return []
    with store.sessions() as session:
        ids = session.scalars(
            select(D.id)
            .where(_due(now))
            .order_by(D.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True, of=D)
        ).all()
        if not ids:
            session.rollback()
            return []
        rows = session.execute(
            update(D)
            .where(D.id.in_(ids), D.status == "pending", D.next_attempt_at <= now)
            .values(next_attempt_at=now + timedelta(seconds=lease_s), attempts=D.attempts + 1)
            .returning(D.id, D.subscription_id, D.event_type, D.payload, D.attempts),
            execution_options={"synchronize_session": False},
        ).all()
        urls = dict(
            session.execute(
                select(WebhookSubscription.id, WebhookSubscription.url).where(
                    WebhookSubscription.id.in_({row.subscription_id for row in rows})
                )
            ).all()
        )
        session.commit()
    return [
        Job(row.id, row.event_type, urls[row.subscription_id], row.payload, row.attempts)
        for row in rows
        if row.subscription_id in urls
    ]


def record(
    store: CrmStore,
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


def prune(store: CrmStore, now: datetime) -> tuple[int, int, int]:
    """Delete old delivered and failed rows and expired idempotency records; return counts."""
    with store.sessions() as session:
        delivered = _count(
            session.execute(
                delete(D).where(D.status == "delivered", D.delivered_at < now - DELIVERED_RETENTION)
            )
        )
        failed = _count(
            session.execute(
                delete(D).where(D.status == "failed", D.date_added < now - FAILED_RETENTION)
            )
        )
        keys = idempotency.prune(session)
        session.commit()
    return delivered, failed, keys


def _count(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
