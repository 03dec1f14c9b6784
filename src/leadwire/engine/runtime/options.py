"""The runtime's knobs, in one frozen object (each one a `Settings` field to be)."""

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
    """

    database_url: str
    intake_synchronous: str = "FULL"
    checkpoint_synchronous: str = "NORMAL"
    queue_name: str = QUEUE_NAME
    budget: RateBudget = field(default_factory=RateBudget)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    calls_per_step: int = 1
    worker_concurrency: int = 16
    polling_interval_s: float = 0.1
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
        """Return the options for `settings`, with `overrides` for knobs it does not have yet."""
        values: dict[str, object] = {
            "database_url": settings.app_url(),
            "intake_synchronous": settings.sqlite_synchronous,
        }
        values.update(overrides)
        return cls(**values)  # type: ignore[arg-type]
