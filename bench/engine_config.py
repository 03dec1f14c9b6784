"""The engine bench's settings: how much of each measurement, and the worker knobs compared."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.engine_stack import UNLIMITED_BURST

SECTIONS = ("intake", "latency", "cpu", "budget", "memory")
UNLIMITED = {
    "crm_rate_burst": str(UNLIMITED_BURST),
    "crm_rate_daily": str(UNLIMITED_BURST * 1000),
    "engine_crm_burst": str(UNLIMITED_BURST),
}
# The worker settings compared: the defaults first (the aim is judged on them, at the latency
# rate), then one knob changed at a time (`LEADWIRE_ENGINE_*`, a fresh worker process each).
KNOBS: tuple[tuple[str, dict[str, str]], ...] = (
    ("defaults", {}),
    ("polling 0.02 s", {"engine_polling_interval_s": "0.02"}),
    ("polling 0.05 s", {"engine_polling_interval_s": "0.05"}),
    ("polling 0.5 s", {"engine_polling_interval_s": "0.5"}),
    ("1 call per step", {"engine_calls_per_step": "1"}),
    ("concurrency 4", {"engine_worker_concurrency": "4"}),
    ("concurrency 64", {"engine_worker_concurrency": "64"}),
    ("durable checkpoints", {"engine_checkpoint_synchronous": "FULL"}),
)


@dataclass(frozen=True)
class Config:
    """How much of each measurement to do."""

    intake_leads: int = 5000
    intake_warmup: int = 300
    intake_connections: tuple[int, ...] = (16, 64, 256)
    intake_repeat: int = 2
    pin: bool = False
    # Wait up to this long for a quiet machine before each measured run (0: never wait).
    quiet_wait_s: float = 120.0
    latency_rate: float = 20.0
    latency_duration_s: float = 30.0
    # Also at these lower rates: the default worker (where the knee is), and each knob (its
    # effect below saturation, where one run is not a coin toss).
    latency_low_rates: tuple[float, ...] = (10.0, 5.0)
    knob_low_rates: tuple[float, ...] = (10.0,)
    knob_duration_s: float = 20.0
    knobs: tuple[str, ...] = tuple(name for name, _ in KNOBS)
    cpu_leads: int = 1000
    bare_leads: int = 1000
    # The CRM connection's `bulk_tags` in the latency and CPU runs (the budget run does both).
    bulk_tags: bool = True
    # The CRM connection's `idempotency_keys` (off: tasks and notes looked up, then created,
    # as on a real HighLevel) in every run but memory's.
    idempotency_keys: bool = True
    budget_burst: int = 100
    budget_interval_s: float = 10.0
    budget_window_s: float = 60.0
    memory_count: int = 600
    memory_rate: float = 10.0
    backends: tuple[str, ...] = ("sqlite", "postgres")
    sections: tuple[str, ...] = field(default=SECTIONS)


SMOKE = Config(
    intake_leads=40,
    intake_warmup=5,
    intake_connections=(4,),
    intake_repeat=1,
    quiet_wait_s=0.0,
    latency_rate=5.0,
    latency_duration_s=2.0,
    latency_low_rates=(),
    knob_low_rates=(),
    knob_duration_s=1.0,
    knobs=("defaults",),
    cpu_leads=10,
    bare_leads=10,
    budget_burst=12,
    budget_interval_s=1.0,
    budget_window_s=2.0,
    memory_count=3,
    memory_rate=5.0,
    backends=("sqlite",),
)
