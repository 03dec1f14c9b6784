"""Wake this process's dispatchers as soon as a transaction that queued deliveries commits.

Dispatchers poll anyway (other processes write to the outbox too); this only cuts the latency
of deliveries queued here from one poll interval to about nothing. A wake-up with nothing due
costs one indexed read, so every dispatcher of the process is woken, whatever its database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

_QUEUED = "leadwire.crm.webhooks.queued"
_listeners: set[Callable[[], None]] = set()
_lock = threading.Lock()


def mark_queued(session: Session) -> None:
    """Note that `session`'s transaction queued deliveries: wake dispatchers when it commits."""
    session.info[_QUEUED] = True


def subscribe(wake: Callable[[], None]) -> Callable[[], None]:
    """Call `wake` (from any thread) after each such commit; return the unsubscribe function."""
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
            log.debug("crm.webhook_wake_skipped reason=loop_closed")


@event.listens_for(Session, "after_commit")
def _after_commit(session: Session) -> None:
    if session.info.pop(_QUEUED, False):
        notify()


@event.listens_for(Session, "after_rollback")
def _after_rollback(session: Session) -> None:
    session.info.pop(_QUEUED, None)
