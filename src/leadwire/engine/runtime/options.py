"""The runtime's knobs, in one frozen object, filled from `Settings` (`LEADWIRE_ENGINE_*`)."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadwire.engine.runtime.backoff import RetryPolicy
from leadwire.engine.runtime.throttle import RateBudget
from leadwire.settings import Settings

QUEUE_NAME = "leadwire-crm"
APP_NAME = "leadwire"
# DBOS dequeues and recovers only workflows of its own application version: bump this when
# the workflow's code changes in a way a half-run segment of the old code could not resume.
APP_VERSION = "leadwire-runtime-1"


@dataclass(frozen=True, slots=True)
class RuntimeOptions:
    """How the durable runtime runs.

    `database_url` is the app store's: DBOS's system tables live beside leadwire's.
    `intake_synchronous` is the SQLite `synchronous` level of intake commits (the settings'
    `sqlite_synchronous`, FULL by default); `checkpoint_synchronous` that of the worker's
    checkpoints (NORMAL: see `system_db`). `calls_per_step` groups consecutive calls into one
    DBOS step (one checkpoint) — every call is idempotent, so a crash mid-step only repeats
    the group's calls. `executor_id` must be unique per worker process and stable across its
    restarts: a restarted worker recovers the workflows its previous life left pending.

    The defaults here are the bare library's (tests and benchmarks build options directly);
    a deployed process takes the settings' through `from_settings`.
    """

    database_url: str
    intake_synchronous: str = "FULL"
    checkpoint_synchronous: str = "NORMAL"
    queue_name: str = QUEUE_NAME
    budget: RateBudget = field(default_factory=RateBudget)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    calls_per_step: int = 1
    worker_concurrency: int = 16
    polling_interval_s: float = 0.05
    executor_id: str = "local"
    app_version: str = APP_VERSION
    pool_size: int = 10

    def __post_init__(self) -> None:
        if self.calls_per_step < 1:
            raise ValueError("calls_per_step must be at least 1")
        if self.worker_concurrency < 1:
            raise ValueError("worker_concurrency must be at least 1")
        if self.polling_interval_s <= 0:
            raise ValueError("polling_interval_s must be positive")

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: object) -> RuntimeOptions:
        """Return the options `settings` ask for, with `overrides` (e.g. a test's) on top."""
        values: dict[str, object] = {
            "database_url": settings.app_url(),
            "intake_synchronous": settings.sqlite_synchronous,
            "checkpoint_synchronous": settings.engine_checkpoint_synchronous,
            "budget": RateBudget(
                burst=settings.engine_crm_burst, interval_s=settings.engine_crm_interval_s
            ),
            "retry": RetryPolicy(
                base_s=settings.engine_retry_base_s,
                cap_s=settings.engine_retry_cap_s,
                window_s=settings.engine_retry_window_s,
            ),
            "calls_per_step": settings.engine_calls_per_step,
            "worker_concurrency": settings.engine_worker_concurrency,
            "polling_interval_s": settings.engine_polling_interval_s,
            "executor_id": settings.executor_id(),
            "pool_size": settings.engine_pool_size,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
