"""Wake this process's dispatchers as soon as a transaction that queued rows commits.

Dispatchers poll anyway (other processes write to the outbox too); this only cuts the latency
of rows queued here from one poll interval to about nothing. A wake-up with nothing due costs
one indexed read, so every dispatcher subscribed to an outbox is woken, whatever its database.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session


class Wakeups:
    """The dispatchers of one outbox in this process, and the commits that should wake them.

    Creating one listens to every `Session`'s commits and rollbacks for as long as the process
    lives, so make one per outbox, at import. A transaction marks itself with `mark_queued`, or
    by adding an instance of `watch` (noticed when it is flushed).
    """

    def __init__(
        self, key: str, log: logging.Logger, skipped: str, *, watch: type | None = None
    ) -> None:
        self._key = key  # in `Session.info`; unique per outbox
        self._log = log
        self._skipped = skipped  # the log event of a wake-up that found its loop closing
        self._watch = watch
        self._listeners: set[Callable[[], None]] = set()
        self._lock = threading.Lock()
        event.listen(Session, "after_commit", self._after_commit)
        event.listen(Session, "after_soft_rollback", self._after_rollback)
        if watch is not None:
            event.listen(Session, "pending_to_persistent", self._on_insert)

    def __repr__(self) -> str:
        return f"Wakeups({self._key!r}, listeners={len(self._listeners)})"

    def mark_queued(self, session: Session) -> None:
        """Note that `session`'s transaction queued rows: wake dispatchers when it commits."""
        session.info[self._key] = True

    def subscribe(self, wake: Callable[[], None]) -> Callable[[], None]:
        """Call `wake` (from any thread) after each such commit; return the unsubscribe function."""
        with self._lock:
            self._listeners.add(wake)

        def unsubscribe() -> None:
            with self._lock:
                self._listeners.discard(wake)

        return unsubscribe

    def notify(self) -> None:
        """Wake every subscribed dispatcher now."""
        with self._lock:
            listeners = list(self._listeners)
        for wake in listeners:
            try:
                wake()
            except RuntimeError:
                # The dispatcher's event loop is closing; it will not need waking again.
                self._log.debug("%s reason=loop_closed", self._skipped)

    def _on_insert(self, session: Session, instance: object) -> None:
        if self._watch is not None and isinstance(instance, self._watch):
            self.mark_queued(session)

    def _after_commit(self, session: Session) -> None:
        if session.info.pop(self._key, False):
            self.notify()

    def _after_rollback(self, session: Session, previous_transaction: object) -> None:
        session.info.pop(self._key, None)
