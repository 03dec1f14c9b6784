"""Keeping within the CRM's rate limits: calls paced per location, waits scheduled in turn.

The CRM counts *requests* per location in windows of its own (HighLevel: 100 per 10 s; the
embedded CRM opens a window at the first request after the last one closed), which a client
can neither see nor align with. So each location gets `calls_per_interval` slots (the
published burst): each request a call may make holds one from the moment the call is
admitted until `interval_s` after its answer came back (one a call did not make — another
call's bulk request carried it, a look-up found what it would have created — is free again at
the answer). Any span of `interval_s` then carries at most that many of our requests, however
the CRM's windows fall — no 429 from our own pace — and under a backlog the slots are in use
nearly all the time, so over 90 % of the budget is spent.

A segment asks for the slots of all the calls it is about to make at once (`admit`). When they
are not free it gets a time to come back instead, and the runtime reschedules it for then
(DBOS holds it; nothing sleeps); a wait is not a failed attempt. Waiting segments are given
times one after the other, spaced at the pace the slots sustain — `calls_per_interval` per
*hold*, the measured time from a call's admission to its slot's release (the interval, plus
how long the calls of its step took), and fewer calls' worth when bulk requests carry some (a
call carried gives its slot back at once) — so they come back in turn rather than all at the
end of a window. A segment back at its turn goes before new ones. They come back a little late (DBOS
moves delayed workflows to the queue about once a second), so one may find its slots still
taken: it keeps its place, back as soon as they free.

Pauses on top of that: a 429 pauses the location for its `Retry-After`, a spent daily quota
until midnight UTC. And when the CRM's remaining count says its window holds more calls than
this worker made (other workers, other apps on the same location), the difference holds slots
too, for an interval. The state is per worker process: across several workers those headers
and 429s keep the pace, and a segment given a turn by one worker that another one picks up
goes to the back of that one's line (the first keeps its place free for up to 30 s).
"""

from __future__ import annotations

import heapq
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from leadwire.engine.runtime.contracts import RateObservation

_DAY_S = 86_400.0
# A segment told to come back at a time is "waiting" until then and a little after: its
# worker may be busy, or DBOS's poll late. After that its turn is given up.
_TURN_KEPT_S = 30.0
# How much one measured hold moves the average the pace follows.
_HOLD_WEIGHT = 0.2
# How much one call moves the averages of requests and slots per call (a backlog's worth of
# calls decides them, not the last few).
_PER_SLOT_WEIGHT = 0.02
# The hold assumed before any is measured, in intervals: the calls of a step take a while.
_FIRST_HOLD = 1.01


@dataclass(frozen=True, slots=True)
class RateBudget:
    """A CRM's published per-location limit, and the share of it the engine uses."""

    burst: int = 100
    interval_s: float = 10.0
    # All of it: a call holds its slot until an interval after its answer, so the CRM counts
    # at most `burst` per interval whenever it counts a call — and HighLevel's budget is per
    # app and location, shared only with this install's other workers (see `observe`).
    headroom: float = 1.0

    def __post_init__(self) -> None:
        if self.burst < 1 or self.interval_s <= 0:
            raise ValueError("burst and interval_s must be positive")
        if not 0 < self.headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")

    def calls_per_interval(self) -> int:
        """Return how many calls a location may have made in any span of `interval_s`."""
        return max(1, math.floor(self.burst * self.headroom))


@dataclass(frozen=True, slots=True)
class Admission:
    """`admit`'s answer: `granted` requests may go now, or none and come back in `wait_s`."""

    granted: int = 0
    wait_s: float = 0.0


@dataclass(slots=True)
class _Location:
    """One location's slots: calls in flight, and when the finished ones stop counting."""

    in_flight: int = 0
    # Min-heap of the times at which finished calls (and foreign ones) give their slot back.
    frees: list[float] = field(default_factory=list)
    paused_until: float = 0.0
    # The end of the line of waiting segments: the next one waits until at least then.
    line_ends: float = 0.0
    # The same for segments that came back at their turn too early.
    rejoin_ends: float = 0.0
    # Waiting segments (by ticket) and the time each was told to come back.
    waiting: dict[str, float] = field(default_factory=dict)
    # Admitted segments (by ticket), and when.
    admitted: dict[str, float] = field(default_factory=dict)
    # How long a slot is held, from admission to release, on average (None: none measured).
    hold_s: float | None = None
    # Requests and slots per admitted call, on average: requests fall below slots when bulk
    # requests carry some calls (or a look-up finds what a create would have made).
    requests_avg: float = 1.0
    slots_avg: float = 1.0

    def used(self, now: float) -> int:
        while self.frees and self.frees[0] <= now:
            heapq.heappop(self.frees)
        return self.in_flight + len(self.frees)

    def free_at(self, needed: int, now: float, interval_s: float) -> float:
        """When `needed` more slots will be free (calls in flight: an interval from now)."""
        if needed <= 0:
            return now
        if needed > len(self.frees):
            return now + interval_s  # a call in flight frees its slot an interval after now
        return heapq.nsmallest(needed, self.frees)[-1]

    def forget_stale_turns(self, now: float) -> None:
        stale = [t for t, at in self.waiting.items() if at + _TURN_KEPT_S < now]
        for ticket in stale:
            del self.waiting[ticket]


class LocationThrottle:
    """This worker's view of each location's rate budget; thread-safe."""

    def __init__(
        self,
        budget: RateBudget,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._budget = budget
        # Slots, turns and pauses are spans of time: a monotonic clock, so a wall clock set
        # back (NTP, a VM resumed) cannot hold a location for that long. The wall clock is
        # only for when the CRM's day ends.
        self._clock = clock
        self._wall_clock = wall_clock
        self._locations: dict[str, _Location] = {}
        self._lock = threading.Lock()

    @property
    def budget(self) -> RateBudget:
        """The budget calls are paced to (the published one, or what the headers said)."""
        return self._budget

    def _location(self, location_id: str) -> _Location:
        state = self._locations.get(location_id)
        if state is None:
            state = self._locations[location_id] = _Location()
        return state

    def admit(self, location_id: str, ticket: str, calls: int) -> Admission:
        """Take slots of `location_id` for `ticket`'s next `calls` requests, or say how long
        to wait. At most the budget's `calls_per_interval` are granted: more could never be
        made in one go (the caller makes the rest in a later step)."""
        if calls < 1:
            raise ValueError(f"a batch must have at least one call, not {calls}")
        now = self._clock()
        with self._lock:
            state = self._location(location_id)
            limit = self._budget.calls_per_interval()
            calls = min(calls, limit)
            turn = state.waiting.pop(ticket, None)
            used = state.used(now)
            queued_behind = turn is None and state.line_ends > now
            if state.paused_until <= now and used + calls <= limit and not queued_behind:
                state.in_flight += calls
                state.admitted[ticket] = now
                return Admission(granted=calls)
            ready = max(
                state.free_at(used + calls - limit, now, self._budget.interval_s),
                state.paused_until,
                now,
            )
            # One segment's share of the pace: the slots its calls will really use (fewer
            # when bulk requests carry some), held `hold` each. (Slots a batch cannot fill —
            # 1 of 100 for batches of 3 — do not count.)
            hold = max(state.hold_s or 0.0, self._budget.interval_s * _FIRST_HOLD)
            per_slot = state.requests_avg / state.slots_avg
            spacing = hold / max(1, math.floor(limit / max(1.0, calls * per_slot)))
            if turn is None:
                ready = max(ready, state.line_ends)
                state.line_ends = ready + spacing
            else:
                # Back at its turn and still no room (earlier calls answered later than the
                # pace assumed): it keeps its place before the line, back as soon as its slots
                # are free — those that came back too early after it, one after the other.
                ready = max(ready, state.rejoin_ends)
                state.rejoin_ends = ready + spacing
            if len(state.waiting) > 4 * limit:
                state.forget_stale_turns(now)
            state.waiting[ticket] = ready
            # Never "come back now": a wait is at least a millisecond.
            return Admission(wait_s=max(ready - now, 0.001))

    def finished(self, location_id: str, ticket: str, requests: int, *, slots: int = 1) -> None:
        """One admitted call, for which `slots` were taken, got its answer (or gave up): each
        request it made holds a slot until an interval from now; the rest are free now.

        `requests` is 0 when another call's bulk request carried it, 1 where a look-up found
        the task a create would have made.
        """
        now = self._clock()
        with self._lock:
            state = self._location(location_id)
            state.in_flight = max(0, state.in_flight - slots)
            state.requests_avg += _PER_SLOT_WEIGHT * (requests - state.requests_avg)
            state.slots_avg += _PER_SLOT_WEIGHT * (slots - state.slots_avg)
            if requests < 1:
                return
            frees = now + self._budget.interval_s
            for _ in range(requests):
                heapq.heappush(state.frees, frees)
            admitted = state.admitted.get(ticket)
            if admitted is not None:
                held = frees - admitted
                state.hold_s = (
                    held
                    if state.hold_s is None
                    else state.hold_s + _HOLD_WEIGHT * (held - state.hold_s)
                )

    def release(self, location_id: str, ticket: str, calls: int) -> None:
        """End `ticket`'s admission, giving back the slots of `calls` calls it did not make."""
        with self._lock:
            state = self._location(location_id)
            state.admitted.pop(ticket, None)
            state.in_flight = max(0, state.in_flight - max(0, calls))

    def held(self, location_id: str) -> int:
        """How many of the location's slots are held now (calls in flight, or answered less
        than an interval ago, or someone else's)."""
        with self._lock:
            state = self._locations.get(location_id)
            return 0 if state is None else state.used(self._clock())

    def wait_s(self, location_id: str) -> float:
        """Return how long the location is paused (0: not paused)."""
        with self._lock:
            state = self._locations.get(location_id)
            return 0.0 if state is None else max(0.0, state.paused_until - self._clock())

    def refuse(self, location_id: str, retry_after_s: float | None) -> None:
        """Note a 429: pause the location for `retry_after_s`, or a whole interval if unsaid."""
        wait = retry_after_s if retry_after_s is not None else self._budget.interval_s
        self._pause(location_id, wait)

    def observe(self, location_id: str, seen: RateObservation) -> None:
        """Learn from one response's rate-limit headers."""
        now = self._clock()
        self._follow_published(seen)
        if seen.daily_remaining is not None and seen.daily_remaining <= 0:
            wall = self._wall_clock()
            self._pause(location_id, _DAY_S - wall % _DAY_S)
            return
        if seen.burst_remaining is None:
            return
        with self._lock:
            # The CRM counts more calls in its window than this worker has made in the last
            # interval: someone else spends the budget. Hold their share of the slots too
            # (with none left, all of them: for an interval, as after `X-RateLimit-Remaining:
            # 0` from calls that were not ours).
            budget = self._budget
            spent = (seen.burst_max or budget.burst) - seen.burst_remaining
            state = self._location(location_id)
            foreign = spent - state.used(now)
            for _ in range(min(foreign, budget.burst)):
                heapq.heappush(state.frees, now + budget.interval_s)

    def _pause(self, location_id: str, wait_s: float) -> None:
        until = self._clock() + max(0.0, wait_s)
        with self._lock:
            state = self._location(location_id)
            state.paused_until = max(until, state.paused_until)

    def _follow_published(self, seen: RateObservation) -> None:
        burst = seen.burst_max if seen.burst_max and seen.burst_max > 0 else self._budget.burst
        interval = (
            seen.interval_ms / 1000
            if seen.interval_ms and seen.interval_ms > 0
            else self._budget.interval_s
        )
        with self._lock:
            if (burst, interval) != (self._budget.burst, self._budget.interval_s):
                self._budget = replace(self._budget, burst=burst, interval_s=interval)
