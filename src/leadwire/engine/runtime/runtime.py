"""The durable runtime of a process: DBOS launched on the engine's database, and its queue.

DBOS is a process-wide singleton, so there is at most one `Runtime` per process: `launch` it
once, `shutdown` it once. Processes that only accept leads (a receiver in scale-out) open a
`LeadIntake` instead and never launch DBOS. Tests that need several runtimes run processes.
"""

from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from types import FrameType

from dbos import DBOS, DBOSConfig, Queue
from sqlalchemy import Engine

from leadwire.engine.runtime.context import SegmentContext, bind_context
from leadwire.engine.runtime.contracts import StepExecutor
from leadwire.engine.runtime.intake import LeadIntake
from leadwire.engine.runtime.options import APP_NAME, RuntimeOptions
from leadwire.engine.runtime.system_db import migrate_system_tables, open_engine
from leadwire.engine.runtime.throttle import LocationThrottle

log = logging.getLogger(__name__)

_launched: Runtime | None = None
_launch_lock = threading.Lock()


class Runtime:
    """DBOS running this process's share of lead workflows, with intake and the inbox."""

    def __init__(
        self,
        options: RuntimeOptions,
        intake: LeadIntake,
        throttle: LocationThrottle,
        queue: Queue,
        engine: Engine,
    ) -> None:
        self.options = options
        self.intake = intake
        self.throttle = throttle
        self.queue = queue
        self.inbox = intake.inbox()
        self._engine = engine

    @property
    def engine(self) -> Engine:
        """The engine DBOS checkpoints with (relaxed durability), shared with the journal."""
        return self._engine

    @classmethod
    def launch(cls, options: RuntimeOptions, executor: StepExecutor) -> Runtime:
        """Launch DBOS for this process and start dequeuing leads with `executor`."""
        global _launched
        with _launch_lock:
            if _launched is not None:
                raise RuntimeError("a runtime is already launched in this process")
            migrate_system_tables(options.database_url)
            engine = open_engine(
                options.database_url,
                synchronous=options.checkpoint_synchronous,
                pool_size=options.pool_size,
                relaxed=options.checkpoint_synchronous.upper() in ("OFF", "NORMAL"),
            )
            throttle = LocationThrottle(options.budget)
            bind_context(
                SegmentContext(
                    executor=executor,
                    throttle=throttle,
                    retry=options.retry,
                    calls_per_step=options.calls_per_step,
                    queue_name=options.queue_name,
                    engine=engine,
                )
            )
            try:
                queue = _start_dbos(options, engine)
                intake = LeadIntake.open(options, migrate=False)
            except BaseException:
                DBOS.destroy()
                bind_context(None)
                engine.dispose()
                raise
            _launched = cls(options, intake, throttle, queue, engine)
            log.info(
                "runtime.launched executor=%s queue=%s calls=%d/%.1fs per location",
                options.executor_id,
                options.queue_name,
                options.budget.calls_per_interval(),
                options.budget.interval_s,
            )
            return _launched

    def shutdown(self, *, drain_s: int = 0) -> None:
        """Stop DBOS (letting running workflows finish for up to `drain_s`) and close up."""
        global _launched
        with _launch_lock:
            DBOS.destroy(workflow_completion_timeout_sec=drain_s)
            bind_context(None)
            self.intake.close()
            self._engine.dispose()
            _launched = None
        log.info("runtime.stopped executor=%s", self.options.executor_id)


def _start_dbos(options: RuntimeOptions, engine: Engine) -> Queue:
    """Launch DBOS on `engine` and register (or update) the queue.

    DBOS's limiters do not pace anything: they count workflow starts, the CRM counts calls, so
    calls are paced per location by the throttle instead (see `throttle`). The partition limit
    is there only for the dequeue it makes DBOS take (one partition per CRM location): DBOS's
    plain dequeue held SQLite's write lock long enough under load to stall intake's commits
    for up to 1.5 s — lead-to-CRM p99 2.0 s at 20 leads/s, against 0.25 s with it (bench.engine,
    same minute). It is set far above any CRM's budget, so it never binds.
    """
    config: DBOSConfig = {
        "name": APP_NAME,
        "system_database_url": options.database_url,
        "system_database_engine": engine,
        "application_version": options.app_version,
        "executor_id": options.executor_id,
        # Migrated by the caller, once, with WAL already on.
        "run_migrations": False,
        "log_level": "WARNING",
        # Workflows run on DBOS's thread pool; the queue's worker concurrency bounds how
        # many, plus a margin for recovery and DBOS's own tasks.
        "max_executor_threads": options.worker_concurrency + 16,
    }
    DBOS(config=config)
    DBOS.launch()
    return DBOS.register_queue(
        options.queue_name,
        worker_concurrency=options.worker_concurrency,
        # A thousand segment starts a second per CRM location.
        partition_limiter={"limit": 1000, "period": 1.0},
        polling_interval_sec=options.polling_interval_s,
        # The configuration is this code's: a queue row an earlier version left (with a
        # partition limiter, say) is overwritten.
        on_conflict="always_update",
    )


def serve_worker(
    options: RuntimeOptions,
    executor: StepExecutor,
    *,
    on_ready: Callable[[], object] | None = None,
) -> None:
    """Run a worker until SIGTERM or SIGINT, then stop it, letting running workflows finish."""
    stop = threading.Event()

    def _stop(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    runtime = Runtime.launch(options, executor)
    try:
        if on_ready is not None:
            on_ready()
        stop.wait()
    finally:
        runtime.shutdown(drain_s=10)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
