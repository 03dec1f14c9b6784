"""Pinterest's rate limits: requests per minute per (app, user, category).

Pinterest publishes per-minute limits per user per app for each `x-ratelimit-category`
(`ads_read` 1,000/min on Standard access; `ads_write` unpublished). Windows here are whole UTC
minutes, so `X-RateLimit-Reset` is the seconds left in the current minute. Counters live in
process memory: the sandbox runs as one process, and a restart can only let a client through
early, never lock it out wrongly.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

WINDOW_S = 60


@dataclass(frozen=True, slots=True)
class RateDecision:
    """Whether one request may pass; if not, how many seconds until the window resets."""

    allowed: bool
    reset_s: int


class RateLimiter:
    """Fixed one-minute windows per key, with a limit per category."""

    def __init__(self, limits: dict[str, int], *, clock: Callable[[], float] = time.time) -> None:
        self._limits = dict(limits)
        self._clock = clock
        self._windows: dict[tuple[str, str], tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, category: str) -> RateDecision:
        """Count one request of `category` for `key` if the window has room."""
        limit = self._limits.get(category)
        if limit is None:
            return RateDecision(True, 0)
        now = self._clock()
        window = int(now // WINDOW_S)
        with self._lock:
            start, count = self._windows.get((key, category), (window, 0))
            if start != window:
                start, count = window, 0
            if len(self._windows) > 100_000:
                # Old windows are useless; drop them all rather than grow without bound.
                self._windows.clear()
            if count >= limit:
                self._windows[(key, category)] = (start, count)
                reset = max(1, math.ceil((window + 1) * WINDOW_S - now))
                return RateDecision(False, reset)
            self._windows[(key, category)] = (start, count + 1)
        return RateDecision(True, 0)
