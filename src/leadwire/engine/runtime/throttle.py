"""Keeping within the CRM's rate limits: the queue's per-location limiter, and location pauses.

Two layers, because DBOS's limiter counts workflow *starts* per partition (one partition per
CRM location) and its value is one per queue, while the CRM counts *calls* per location:

1. The partitioned queue's `partition_limiter` admits `burst * headroom / calls_per_lead`
   segments per interval and location, from the CRM's published limits (100 per 10 s). When
   responses show other limits (`X-RateLimit-Max`, `X-RateLimit-Interval-Milliseconds`) the
   limiter is recomputed and stored in the queue's row, which every worker reloads each poll.
2. A location whose budget runs out anyway (`X-RateLimit-Remaining: 0`, a 429, the daily quota)
   is paused in this worker: its calls are not made but rescheduled, through the same
   backoff path as a 429, until the pause ends. Nothing sleeps.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from leadwire.engine.runtime.contracts import RateObservation

_DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class RateBudget:
    """A CRM's published per-location limit, and how much of it one lead spends."""

    burst: int = 100
    interval_s: float = 10.0
    calls_per_lead: float = 4.0
    headroom: float = 0.9

    def __post_init__(self) -> None:
        if self.burst < 1 or self.interval_s <= 0 or self.calls_per_lead <= 0:
            raise ValueError("burst, interval_s and calls_per_lead must be positive")
        if not 0 < self.headroom <= 1:
            raise ValueError("headroom must be in (0, 1]")

    def segments_per_interval(self) -> int:
        """Return how many segments a location may start per interval (at least one)."""
        return max(1, math.floor(self.burst * self.headroom / self.calls_per_lead))


class LocationThrottle:
    """This worker's view of each location's remaining budget."""

    def __init__(
        self,
        budget: RateBudget,
        *,
        on_budget_change: Callable[[RateBudget], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._budget = budget
        self._on_budget_change = on_budget_change
        self._clock = clock
        self._paused_until: dict[str, float] = {}
        self._lock = threading.Lock()

    @property
    def budget(self) -> RateBudget:
        """The budget the queue's limiter currently follows."""
        return self._budget

    def wait_s(self, location_id: str) -> float:
        """Return how long calls to `location_id` must wait (0: go ahead)."""
        with self._lock:
            until = self._paused_until.get(location_id)
            if until is None:
                return 0.0
            left = until - self._clock()
            if left <= 0:
                del self._paused_until[location_id]
                return 0.0
            return left

    def refuse(self, location_id: str, retry_after_s: float | None) -> None:
        """Note a 429: pause the location for `retry_after_s`, or a whole interval if unsaid."""
        wait = retry_after_s if retry_after_s is not None else self._budget.interval_s
        self._pause(location_id, wait)

    def observe(self, location_id: str, seen: RateObservation) -> None:
        """Learn from one response's rate-limit headers."""
        now = self._clock()
        if seen.daily_remaining is not None and seen.daily_remaining <= 0:
            self._pause(location_id, _DAY_S - now % _DAY_S)
        elif seen.burst_remaining is not None and seen.burst_remaining <= 0:
            interval = (seen.interval_ms / 1000) if seen.interval_ms else self._budget.interval_s
            self._pause(location_id, interval)
        self._follow_published(seen)

    def set_budget(self, budget: RateBudget) -> None:
        """Follow another budget from now on (an operator's, or a CRM plan's)."""
        with self._lock:
            if budget == self._budget:
                return
            self._budget = budget
        if self._on_budget_change is not None:
            self._on_budget_change(budget)

    def _pause(self, location_id: str, wait_s: float) -> None:
        until = self._clock() + max(0.0, wait_s)
        with self._lock:
            self._paused_until[location_id] = max(until, self._paused_until.get(location_id, 0))

    def _follow_published(self, seen: RateObservation) -> None:
        burst = seen.burst_max if seen.burst_max and seen.burst_max > 0 else self._budget.burst
        interval = (
            seen.interval_ms / 1000
            if seen.interval_ms and seen.interval_ms > 0
            else self._budget.interval_s
        )
        with self._lock:
            if (burst, interval) == (self._budget.burst, self._budget.interval_s):
                return
            self._budget = replace(self._budget, burst=burst, interval_s=interval)
            budget = self._budget
        if self._on_budget_change is not None:
            self._on_budget_change(budget)
