"""The loop of a worker's housekeeping threads (pruning, the stranded sweep, the scheduler)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


def every(stop: threading.Event, interval_s: float, work: Callable[[], object], name: str) -> None:
    """Do `work` now and every `interval_s` until `stop` is set; never raises.

    A failed round is logged as `<name>_failed` and waits its turn: the database may be briefly
    unreachable, and the next round tries again. The wait ends as soon as `stop` is set.
    """
    if interval_s <= 0:
        raise ValueError("interval_s must be positive")
    while not stop.is_set():
        try:
            work()
        except Exception:
            log.exception("%s_failed", name)
        if stop.wait(interval_s):
            return
