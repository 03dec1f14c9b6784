"""Wake this process's webhook dispatchers as soon as a transaction that queued deliveries commits.

`crm.events.emit` marks its session (`mark_queued`); each `Dispatcher` subscribes. Dispatchers
poll anyway, since other processes write to the outbox too: this only cuts the latency of
deliveries queued here from one poll interval to about nothing.
"""

from __future__ import annotations

import logging

from leadwire.store.outbox import Wakeups

log = logging.getLogger(__name__)

WAKEUPS = Wakeups("leadwire.crm.webhooks.queued", log, "crm.webhook_wake_skipped")
mark_queued = WAKEUPS.mark_queued
subscribe = WAKEUPS.subscribe
notify = WAKEUPS.notify
