"""Several leads' add-tags calls with the same tags, made as one bulk request (group commit).

The CRM's bulk tag update (`POST /contacts/bulk/tags/update/add`) adds one tag set to many
contacts in one request. Runs of different leads reach the same add-tags step of a flow all
the time under load, so calls are merged the way a database merges commits:

- a call goes on its own, at once, when no call with its tags is in flight — a quiet worker
  adds no wait and no request;
- calls arriving while one is in flight wait for it, then go together: the first of them sends
  one request for all (at most `MAX_BATCH` contacts) and hands each its outcome.

A merged call made no request, so its run gives its rate-budget slot back (`StepResult.requests`
is 0): under a backlog the same budget carries more leads.

Each contact's outcome is read from the answer. A contact it did not tag (refused, or missing
from the answer) is tagged by a request of its own, so its error is the CRM's own answer for
it. When the bulk request cannot serve the batch at all (`BulkUnavailableError`: no such endpoint,
body refused), every call goes on its own. Any other failure (429, 5xx, timeout, refused
credentials) fails every call of the batch, as one request each would have.
"""

from __future__ import annotations

import copy
import logging
import threading
from collections import deque
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field, replace

from leadwire.engine.runtime import StepResult

log = logging.getLogger(__name__)

# How long a call waits for the request that is to carry it before going on its own. Only a
# defect gets there: the calls before it and the bulk request each end within the CRM
# client's timeout (30 s by default).
SENDER_LOST_S = 300.0
# Contacts in one bulk request. The embedded CRM takes up to 500; HighLevel publishes no
# limit, so we stay well under it.
MAX_BATCH = 100

# Makes the call on its own.
Alone = Callable[[], StepResult]
# Makes one request for the contacts; returns the outcome of each contact it tagged.
Together = Callable[[Sequence[str]], Mapping[str, StepResult]]


class BulkUnavailableError(Exception):
    """The bulk request cannot serve this batch: each call goes on its own instead."""


@dataclass(eq=False)
class _Batch:
    """Calls waiting to go together; the first one sends for all."""

    contact_ids: list[str]
    done: threading.Event = field(default_factory=threading.Event)
    tagged: Mapping[str, StepResult] = field(default_factory=dict)
    error: BaseException | None = None


@dataclass(eq=False)
class _Lane:
    """The calls of one key: whether one is in flight, and the batches waiting their turn."""

    busy: bool = False
    waiting: deque[_Batch] = field(default_factory=deque)


class TagBatcher:
    """Merges concurrent calls of one key (a connection and a tag set); thread-safe."""

    def __init__(self, max_batch: int = MAX_BATCH) -> None:
        if max_batch < 2:
            raise ValueError("a batch must hold at least two calls")
        self._max = max_batch
        self._lanes: dict[Hashable, _Lane] = {}
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
            lane = self._lanes.setdefault(key, _Lane())
            if not lane.busy and not lane.waiting:
                lane.busy = True
                batch, sends = None, False
            else:
                batch, sends = self._join(lane, contact_id)
        if batch is None:
            try:
                return alone()
            finally:
                self._free(key, lane)
        if not sends:
            if not batch.done.wait(SENDER_LOST_S):
                log.error("crm.bulk_tags_sender_lost: the call goes on its own")
                return alone()
            return _outcome(batch, contact_id, alone)
        try:
            with self._changed:
                while lane.busy or lane.waiting[0] is not batch:
                    self._changed.wait()
                lane.busy = True
                lane.waiting.popleft()  # closed: later arrivals start the next batch
        except BaseException:
            self._abandon(key, lane, batch)
            raise
        try:
            if len(batch.contact_ids) == 1:  # nobody joined
                return alone()
            try:
                batch.tagged = together(list(dict.fromkeys(batch.contact_ids)))
            except Exception as exc:  # handed to every call of the batch, raised below
                batch.error = exc
        finally:
            batch.done.set()
            self._free(key, lane)
        result = _outcome(batch, contact_id, alone)
        # This call sent the bulk request: it counts on this call's rate-budget slot.
        return replace(result, requests=result.requests + 1)

    def _join(self, lane: _Lane, contact_id: str) -> tuple[_Batch, bool]:
        """Join the last waiting batch, or open one (its opener sends it)."""
        if lane.waiting and len(lane.waiting[-1].contact_ids) < self._max:
            batch = lane.waiting[-1]
            batch.contact_ids.append(contact_id)
            return batch, False
        batch = _Batch([contact_id])
        lane.waiting.append(batch)
        return batch, True

    def _abandon(self, key: Hashable, lane: _Lane, batch: _Batch) -> None:
        """The call that was to send `batch` stopped before its turn: the others go alone."""
        with self._changed:
            if batch in lane.waiting:
                lane.waiting.remove(batch)
            batch.error = BulkUnavailableError("the call that was to send it stopped")
            batch.done.set()
            if not lane.busy and not lane.waiting and self._lanes.get(key) is lane:
                del self._lanes[key]
            self._changed.notify_all()

    def _free(self, key: Hashable, lane: _Lane) -> None:
        with self._changed:
            lane.busy = False
            if not lane.waiting and self._lanes.get(key) is lane:
                del self._lanes[key]
            self._changed.notify_all()


def _outcome(batch: _Batch, contact_id: str, alone: Alone) -> StepResult:
    """What the batch's request did for `contact_id` (or its own request's answer)."""
    error = batch.error
    if isinstance(error, BulkUnavailableError):
        return alone()
    if error is not None:
        raise _own_copy(error)
    tagged = batch.tagged.get(contact_id)
    return tagged if tagged is not None else alone()


def _own_copy(error: BaseException) -> BaseException:
    """A copy of `error` for one call to raise: one exception object raised in many threads
    would collect all their tracebacks. One that cannot be copied is raised as it is."""
    try:
        return copy.copy(error)
    except Exception:  # rebuilt from its args, and they do not fit: the tracebacks can pile up
        return error
