"""The deliveries table as the dispatcher sees it: what a job is, and wake-ups.

Claiming (a lease, `FOR UPDATE SKIP LOCKED` on PostgreSQL) and recording outcomes (fenced by
the attempt count) are `leadwire.store.outbox`'s; this module says what is particular to the
sandbox: a job carries the lead and the subscription's sealed key.

Wake-ups: when a transaction that added a `Delivery` commits, every dispatcher of this process
is woken at once (`subscribe`), so a lead goes out in milliseconds rather than one poll later.
`record_lead` needs no help for that: the session events of `WAKEUPS` notice the new rows.
Other processes' dispatchers find new rows by polling.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.leads import Lead
from leadwire.sandbox.answers import lead_of
from leadwire.sandbox.models import Delivery, SandboxLead, Subscription
from leadwire.store.outbox import OutboxTable, Wakeups

log = logging.getLogger(__name__)


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


Related = tuple[dict[str, Subscription], dict[str, SandboxLead]]


def _related(session: Session, rows: Sequence[Row[Any]]) -> Related:
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
    return subscriptions, leads


def _jobs(rows: Sequence[Row[Any]], related: Related) -> list[Job]:
    subscriptions, leads = related
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


TABLE = OutboxTable(
    Delivery,
    returning=(Delivery.subscription_id, Delivery.lead_id),
    fetch=_related,
    build=_jobs,
)

WAKEUPS = Wakeups(
    "leadwire.sandbox.deliveries.queued", log, "sandbox.delivery_wake_skipped", watch=Delivery
)
subscribe = WAKEUPS.subscribe
notify = WAKEUPS.notify
