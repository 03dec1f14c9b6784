"""What workflow code needs from the process that runs it, bound once at launch.

DBOS runs workflow code on its own threads with only the workflow's inputs; the executor, the
throttle and the rest are this process's, set by the runtime when it launches.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine

from leadwire.engine.runtime.backoff import RetryPolicy
from leadwire.engine.runtime.contracts import StepExecutor
from leadwire.engine.runtime.throttle import LocationThrottle


@dataclass(frozen=True, slots=True)
class SegmentContext:
    """What workflow code needs from the process that runs it."""

    executor: StepExecutor
    throttle: LocationThrottle
    retry: RetryPolicy
    calls_per_step: int
    queue_name: str
    engine: Engine


_context: SegmentContext | None = None


def bind_context(context: SegmentContext | None) -> None:
    """Set (or clear) the context of this process's workflows; done by the runtime at launch."""
    global _context
    _context = context


def current() -> SegmentContext:
    """The context of this process's workflows."""
    if _context is None:
        raise RuntimeError("no runtime is launched in this process")
    return _context
