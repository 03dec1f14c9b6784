"""Outboxes: rows written in the same transaction as a change, then POSTed at least once.

The shared mechanism of the CRM's event webhooks and the Pinterest sandbox's lead deliveries:
`leases` claims due rows with a lease and records outcomes, fenced by the attempt count;
`wakeups` wakes this process's dispatchers when a commit queued rows; `dispatcher` runs the
asyncio loop that claims, POSTs and records. Each user supplies its table, how a row becomes a
request, which answers it retries, and its retry policy (`leadwire.backoff`).
"""

from leadwire.store.outbox.dispatcher import (
    DEFAULT_TIMEOUT,
    Channel,
    Dispatcher,
    Job,
    Request,
    Tuning,
)
from leadwire.store.outbox.leases import (
    OutboxRow,
    OutboxTable,
    Outcome,
    Sessions,
    Verdict,
    classify,
)
from leadwire.store.outbox.wakeups import Wakeups

__all__ = [
    "DEFAULT_TIMEOUT",
    "Channel",
    "Dispatcher",
    "Job",
    "OutboxRow",
    "OutboxTable",
    "Outcome",
    "Request",
    "Sessions",
    "Tuning",
    "Verdict",
    "Wakeups",
    "classify",
]
