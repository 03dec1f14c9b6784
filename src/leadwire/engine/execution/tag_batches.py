"""Several leads' add-tags calls with the same tags, made as one bulk request (group commit).

The CRM's bulk tag update (`POST /contacts/bulk/tags/update/add`) adds one tag set to many
contacts in one request. Runs of different leads reach the same add-tags step of a flow all
the time under load, so calls are merged the way a database merges commits:

- a call goes on its own, at once, when no call with its tags is in flight — a quiet worker
  adds no wait and no request;
- calls arriving while one is in flight wait for it, then go together: the first of them (the
  sender) sends one request for all (at most `MAX_BATCH` contacts) and hands each its outcome.

A call carried by the sender's request made none, so its run gives its rate-budget slot back
(`StepResult.requests` is 0): under a backlog the same budget carries more leads.

Each contact's outcome is read from the answer. A contact it did not tag (refused, or missing
from the answer) is tagged by a request of its own, on its own slot, so its error is the CRM's
own answer for it. When the bulk request cannot serve the batch at all (`BulkUnavailableError`:
no such endpoint, body or credentials refused), every call goes on its own. Any other failure
(429, 5xx, timeout) fails every call of the batch, as one request each would have. The sender
has spent its slot on the bulk request: when that did not tag its own contact, its own request
goes on the slot of a call the bulk request carried; when it carried none, the sender's call
fails with `SendAloneError` and the run retries it, alone, on a slot admitted for it. So no
request ever goes out beyond the budget.
"""

from __future__ import annotations

import copy
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from leadwire.engine.runtime import StepResult
from leadwire.errors import RetryableError

log = logging.getLogger(__name__)

# How long a call waits for its turn, or for the request that is to carry it, before going on
# its own. Only a defect gets there: the calls before it and the bulk request each end within
# the CRM client's timeout (30 s by default).
PATIENCE_S = 300.0
# Contacts in one bulk request. The embedded CRM takes up to 500; HighLevel publishes no
# limit, so we stay well under it.
MAX_BATCH = 100
# Calls remembered to go alone at their retry (see `SendAloneError`); the oldest are forgotten.
_ALONE_KEPT = 1024

# Makes the call on its own.
Alone = Callable[[], StepResult]
# Makes one request for the contacts; returns the outcome of each contact it tagged.
Together = Callable[[Sequence[str]], Mapping[str, StepResult]]


class BulkUnavailableError(Exception):
    """The bulk request cannot serve this batch: each call goes on its own instead."""


class SendAloneError(RetryableError):
    """The bulk request this call sent did not tag its own contact: its run retries the call,
    which then goes on its own (its slot was spent on the bulk request)."""


@dataclass(eq=False)
class _Batch:
    """Calls waiting to go together; the first one sends for all."""

    contact_ids: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    tagged: Mapping[str, StepResult] = field(default_factory=dict)
    error: BaseException | None = None
    # A call the bulk request carried whose slot the sender used for a request of its own.
    lender: str | None = None
    # Calls that stopped waiting and went alone: their slots are not to lend.
    gone: set[str] = field(default_factory=set)

    def failure(self) -> BaseException | None:
        """The error every call of the batch raises (None: each goes by its own outcome)."""
        return None if isinstance(self.error, BulkUnavailableError) else self.error


@dataclass(eq=False)
class _Lane:
    """The calls of one key: whether one is in flight, and the batches waiting their turn."""

    busy: bool = False
    waiting: deque[_Batch] = field(default_factory=deque)


class TagBatcher:
    """Merges concurrent calls of one key (a connection and a tag set); thread-safe."""

    def __init__(self, *, max_batch: int = MAX_BATCH, patience_s: float = PATIENCE_S) -> None:
        if max_batch < 2:
            raise ValueError("a batch must hold at least two calls")
        self._max = max_batch
        self._patience_s = patience_s
        self._lanes: dict[Hashable, _Lane] = {}
        self._alone: dict[tuple[Hashable, str], None] = {}
        self._changed = threading.Condition()

    def lanes(self) -> int:
        """How many keys have a call in flight or waiting (0 when idle: nothing is kept)."""
        with self._changed:
            return len(self._lanes)

    def waiting(self, key: Hashable | None = None) -> int:
        """How many calls of `key` (of any key: None) wait for a request to carry them."""
        with self._changed:
            lanes = self._lanes.values() if key is None else [self._lanes.get(key)]
            return sum(len(b.contact_ids) for lane in lanes if lane for b in lane.waiting)

    def add(self, key: Hashable, contact_id: str, alone: Alone, together: Together) -> StepResult:
        """Tag `contact_id`: alone when no call of `key` is in flight, else with the others."""
        with self._changed:
            retried = (key, contact_id) in self._alone  # its own bulk request missed it
            if retried:
                del self._alone[(key, contact_id)]
            else:
                lane = self._lanes.setdefault(key, _Lane())
                if not lane.busy and not lane.waiting:
                    lane.busy = True
                    batch, sends = None, False
                else:
                    batch, sends = self._join(lane, contact_id)
        if retried:
            return alone()
        if batch is None:
            try:
                return alone()
            finally:
                self._free(key, lane)
        if sends:
            return self._send(key, lane, batch, contact_id, alone, together)
        if not batch.done.wait(self._patience_s):
            with self._changed:
                answered = contact_id in batch.tagged  # the sender is on its own request
                if not answered:
                    batch.gone.add(contact_id)  # never the lender: its slot goes on its own
            if not answered:
                log.error("crm.bulk_tags_sender_lost: the call goes on its own")
                return alone()
            # Tagged: the sender is making its own request, perhaps on this call's slot, which
            # must be held until that request's answer.
            batch.done.wait(self._patience_s)
        failure = batch.failure()
        if failure is not None:
            raise _own_copy(failure)
        tagged = batch.tagged.get(contact_id)
        if tagged is None:
            return alone()
        # The lender holds its slot as if it had made the sender's own request.
        return replace(tagged, requests=1) if contact_id == batch.lender else tagged

    def _join(self, lane: _Lane, contact_id: str) -> tuple[_Batch, bool]:
        """Join the last waiting batch, or open one (its opener sends it)."""
        if lane.waiting and len(lane.waiting[-1].contact_ids) < self._max:
            batch = lane.waiting[-1]
            batch.contact_ids.append(contact_id)
            return batch, False
        batch = _Batch([contact_id])
        lane.waiting.append(batch)
        return batch, True

    def _send(
        self,
        key: Hashable,
        lane: _Lane,
        batch: _Batch,
        contact_id: str,
        alone: Alone,
        together: Together,
    ) -> StepResult:
        """Wait for the lane, then send `batch` (alone when nobody joined)."""
        claimed = False
        try:
            claimed = self._turn(lane, batch)
            if not claimed:
                log.error("crm.bulk_tags_turn_lost: the batch goes one call at a time")
            elif len(batch.contact_ids) == 1:
                return alone()
            else:
                try:
                    answer = together(list(dict.fromkeys(batch.contact_ids)))
                except Exception as exc:  # handed to every call of the batch
                    batch.error = exc
                else:
                    with self._changed:
                        batch.tagged = answer
                        if contact_id not in answer:
                            # Its own contact missed: its own request goes now, on the slot
                            # of a call the bulk request carried — before that call is let
                            # go, so the slot is held until an interval after this answer.
                            lenders = (c for c in answer if c not in batch.gone)
                            batch.lender = next(lenders, None)
                    if batch.lender is not None:
                        return alone()
        finally:
            self._settle(key, lane, batch, claimed)
        if not claimed:
            return alone()  # nothing was sent for it
        failure = batch.failure()
        if failure is not None:
            raise failure
        tagged = batch.tagged.get(contact_id)
        if tagged is not None:
            return replace(tagged, requests=1)  # the bulk request, on this call's slot
        # Nobody's slot to lend: its run retries the call, which goes alone on its own slot.
        with self._changed:
            if len(self._alone) >= _ALONE_KEPT:
                del self._alone[next(iter(self._alone))]
            self._alone[(key, contact_id)] = None
        raise SendAloneError("add-tags: the bulk request this call sent did not tag its contact")

    def _turn(self, lane: _Lane, batch: _Batch) -> bool:
        """Wait until the lane is free and `batch` first in it, then claim the lane; False
        when that took longer than the patience."""
        deadline = time.monotonic() + self._patience_s
        with self._changed:
            while lane.busy or lane.waiting[0] is not batch:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            lane.waiting.popleft()  # closed: later arrivals start the next batch
            lane.busy = True
            return True

    def _settle(self, key: Hashable, lane: _Lane, batch: _Batch, claimed: bool) -> None:
        """Release `batch`'s calls (to go alone, if it was never sent) and the lane."""
        with self._changed:
            if batch in lane.waiting:
                lane.waiting.remove(batch)
            if not claimed:
                batch.error = BulkUnavailableError("the call that was to send it never did")
            batch.done.set()
            if claimed:
                lane.busy = False
            self._forget_idle(key, lane)

    def _free(self, key: Hashable, lane: _Lane) -> None:
        with self._changed:
            lane.busy = False
            self._forget_idle(key, lane)

    def _forget_idle(self, key: Hashable, lane: _Lane) -> None:
        # Called with the lock held; wakes the senders waiting their turn.
        if not lane.busy and not lane.waiting and self._lanes.get(key) is lane:
            del self._lanes[key]
        self._changed.notify_all()


def _own_copy(error: BaseException) -> BaseException:
    """A copy of `error` for one call to raise: one exception object raised in many threads
    would collect all their tracebacks. One that cannot be copied is raised as it is."""
    try:
        return copy.copy(error)
    except Exception:  # rebuilt from its args, and they do not fit: the tracebacks can pile up
        return error
