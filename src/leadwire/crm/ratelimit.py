"""HighLevel's limits: a burst window (100 per 10 s) and a daily quota (200,000), per bucket."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

_DAY_S = 86_400


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether one request may pass, and what the five `X-RateLimit-*` headers say."""

    allowed: bool
    burst_max: int
    burst_remaining: int
    interval_ms: int
    daily_max: int
    daily_remaining: int
    retry_after_s: int

    def headers(self) -> dict[str, str]:
        """Return the headers HighLevel sends on every response (names as in its docs)."""
        return {
            "X-RateLimit-Limit-Daily": str(self.daily_max),
            "X-RateLimit-Daily-Remaining": str(self.daily_remaining),
            "X-RateLimit-Interval-Milliseconds": str(self.interval_ms),
            "X-RateLimit-Max": str(self.burst_max),
            "X-RateLimit-Remaining": str(self.burst_remaining),
        }


@dataclass(slots=True)
class _Window:
    burst_start: float
    burst_count: int
    day: int
    day_count: int


class RateLimiter:
    """Fixed windows per key: the burst window opens at a key's first request, days are UTC.

    Kept in process memory: the embedded CRM runs as one process. Counters start afresh on
    restart, which can only let a client through early, never lock it out wrongly.
    """

    def __init__(
        self,
        *,
        burst: int,
        interval_ms: int,
        daily: int,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.burst = burst
        self.interval_ms = interval_ms
        self.daily = daily
        self._clock = clock
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> RateDecision:
        """Count one request for `key` if it fits both windows; say when to retry if not."""
        now = self._clock()
        interval_s = self.interval_ms / 1000
        day = int(now // _DAY_S)
        with self._lock:
            w = self._windows.get(key)
            if w is None:
                w = self._windows[key] = _Window(now, 0, day, 0)
            if now - w.burst_start >= interval_s:
                w.burst_start, w.burst_count = now, 0
            if w.day != day:
                w.day, w.day_count = day, 0
            if w.day_count >= self.daily:
                retry = (day + 1) * _DAY_S - now
                return self._decision(w, allowed=False, retry_after_s=retry)
            if w.burst_count >= self.burst:
                retry = w.burst_start + interval_s - now
                return self._decision(w, allowed=False, retry_after_s=retry)
            w.burst_count += 1
            w.day_count += 1
            return self._decision(w, allowed=True, retry_after_s=0)

    def _decision(self, w: _Window, *, allowed: bool, retry_after_s: float) -> RateDecision:
        return RateDecision(
            allowed=allowed,
            burst_max=self.burst,
            burst_remaining=max(0, self.burst - w.burst_count),
            interval_ms=self.interval_ms,
            daily_max=self.daily,
            daily_remaining=max(0, self.daily - w.day_count),
            retry_after_s=max(1, math.ceil(retry_after_s)) if not allowed else 0,
        )
