"""The webhook outbox as the dispatcher sees it: which rows are due, what a job is, pruning.

Claiming (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL) and recording outcomes (fenced by
the attempt count) are `leadwire.store.outbox`'s; this module says what is particular to the
CRM: only deliveries of active subscriptions are due, a job carries the event and its payload,
and old rows and expired idempotency records are pruned.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, delete, select
from sqlalchemy.orm import Session

from leadwire.crm import idempotency
from leadwire.crm.models import WebhookDelivery, WebhookSubscription
from leadwire.crm.store import CrmStore
from leadwire.store.outbox import OutboxTable

# Delivered rows are kept a week for `webhook deliveries`; failed ones a month, to be looked at.
DELIVERED_RETENTION = timedelta(days=7)
FAILED_RETENTION = timedelta(days=30)

D = WebhookDelivery


@dataclass(frozen=True)
class Job:
    """A claimed delivery: what to send, where, and which attempt this is."""

    id: str
    event_type: str
    url: str
    payload: dict[str, Any]
    attempt: int


def _urls(session: Session, rows: Sequence[Row[Any]]) -> dict[str, str]:
    return dict(
        session.execute(
            select(WebhookSubscription.id, WebhookSubscription.url).where(
                WebhookSubscription.id.in_({row.subscription_id for row in rows})
            )
        ).all()
    )


def _jobs(rows: Sequence[Row[Any]], urls: dict[str, str]) -> list[Job]:
    return [
        Job(row.id, row.event_type, urls[row.subscription_id], row.payload, row.attempts)
        for row in rows
        if row.subscription_id in urls
    ]


TABLE = OutboxTable(
    D,
    returning=(D.subscription_id, D.event_type, D.payload),
    fetch=_urls,
    build=_jobs,
    also_due=D.subscription_id.in_(
        select(WebhookSubscription.id).where(WebhookSubscription.is_active.is_(True))
    ),
)


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
