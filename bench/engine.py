"""Benchmark the engine end to end: intake, latency, CPU per lead, rate-budget use, memory.

    .venv/bin/python -m bench.engine [--only intake,latency,cpu,budget,memory]
        [--backends sqlite,postgres] [--json out.json] [--smoke]

Prints a table per measurement and the issue's aims, then the whole result as JSON (to
`--json` if given, else after the tables).

Every server is a real `leadwire` process on a fresh data folder (and, for PostgreSQL, a fresh
database), reached over real sockets; every process is stopped at the end. See
docs/benchmarks.md ("The engine") for what each number means and how the two cores are shared.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from bench import (
    engine_budget,
    engine_cpu,
    engine_latency,
    engine_memory,
    engine_report,
    engine_webhook,
    report,
)
from bench import engine_stack as stack
from bench.engine_leads import People
from bench.engine_proxy import counting_proxy
from bench.server import HOST, postgres_database, server_errors

T = TypeVar("T")
SECTIONS = ("intake", "latency", "cpu", "budget", "memory")
UNLIMITED = {
    "crm_rate_burst": str(stack.UNLIMITED_BURST),
    "crm_rate_daily": str(stack.UNLIMITED_BURST * 1000),
    "engine_crm_burst": str(stack.UNLIMITED_BURST),
}
# The worker settings compared at the latency rate: the defaults first (the aim is judged on
# them), then one knob changed at a time.
KNOBS: tuple[tuple[str, dict[str, str]], ...] = (
    ("defaults", {}),
    ("polling 0.02 s", {"engine_polling_interval_s": "0.02"}),
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


def _run(factory: Callable[[], Coroutine[Any, Any, T]]) -> T:
    # uvloop when installed (the servers' own dependency): a cheaper loop leaves more CPU to
    # the processes under test.
    try:
        import uvloop
    except ImportError:
        return asyncio.run(factory())
    return uvloop.run(factory())


def _progress(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@contextmanager
def _world(backend: str, **extra: str) -> Iterator[tuple[Path, dict[str, str], str | None]]:
    """Yield a fresh folder, its settings and (PostgreSQL) the database's name."""
    with tempfile.TemporaryDirectory(prefix="leadwire-bench-engine-") as tmp, ExitStack() as st:
        url = st.enter_context(postgres_database()) if backend == "postgres" else None
        root = Path(tmp)
        database = url.rsplit("/", 1)[-1] if url else None
        yield root, stack.world_values(root, database_url=url, **extra), database


def _quiet(config: Config) -> float | None:
    """Wait for a quiet machine if configured; return its busy cores when the run starts."""
    return stack.wait_quiet(config.quiet_wait_s) if config.quiet_wait_s > 0 else None


def run_intake(backend: str, config: Config) -> dict[str, Any]:
    """Measure webhook intake on `backend` at each client count (best of `intake_repeat`)."""
    with _world(backend) as (root, values, database):
        world = stack.provision(root, values)
        # Pinned: the receiver gets core 1, the load generator (this thread) core 0.
        receiver = stack.receiver(world, cpus="1" if config.pin else None)
        people = People()
        runs = []

        def once(leads: int, connections: int) -> dict[str, Any]:
            busy = _quiet(config)
            speed = stack.python_speed()
            found = engine_webhook.measure(
                world,
                receiver,
                people,
                leads=leads,
                connections=connections,
                run_loop=_run,
                database=database,
            )
            return {**found, "busy_cores_before": busy, "python_loops_per_s": speed}

        with stack.running([receiver]):
            stack.restrict_to({0} if config.pin else None)
            try:
                once(config.intake_warmup, max(config.intake_connections))
                for connections in config.intake_connections:
                    _progress(f"intake on {backend}: {connections} clients")
                    tries = [
                        once(config.intake_leads, connections) for _ in range(config.intake_repeat)
                    ]
                    best = max(tries, key=lambda r: r["leads_per_s"])
                    runs.append({**best, "tries_leads_per_s": [r["leads_per_s"] for r in tries]})
            finally:
                stack.restrict_to(None)
            recorded = engine_webhook.count_recorded(world.settings().app_url())
        sent = config.intake_warmup + config.intake_leads * len(config.intake_connections) * (
            config.intake_repeat
        )
        return {
            "backend": backend,
            "placement": "receiver on core 1, load generator on core 0"
            if config.pin
            else "unpinned",
            "synchronous": "FULL" if backend == "sqlite" else "synchronous_commit=on",
            "runs": runs,
            "sent": sent,
            "recorded": recorded,
            "every_lead_recorded": recorded["run_rows"] == recorded["workflows"] == sent,
            "receiver_errors": server_errors(receiver.log_path),
        }


def _latency_and_cpu(config: Config, result: dict[str, Any]) -> None:
    """Measure latency per worker setting, and the CPU per lead, on one world.

    The CPU drain runs on the default worker, after its latency run (or on its own).
    """
    knobs = dict(KNOBS)
    names = config.knobs if "latency" in config.sections else ()
    if "cpu" in config.sections and "defaults" not in names:
        names = (*names, "defaults")
    with _world("sqlite", **UNLIMITED) as (root, values, _db):
        world = stack.provision(root, values)
        crm = stack.crm(world)
        receiver = stack.receiver(world)
        people = People()
        runs = []
        with stack.running([crm, receiver]):
            for n, name in enumerate(names):
                worker = stack.worker(world, name=f"worker-{n}", **knobs[name])
                with stack.running([worker]):
                    if "latency" in config.sections:
                        processes = {"worker": worker, "crm": crm, "receiver": receiver}
                        duration = config.latency_duration_s if n == 0 else config.knob_duration_s
                        rates = [config.latency_rate]
                        if name == "defaults":
                            rates += config.latency_low_rates
                        else:
                            rates += config.knob_low_rates
                        for rate in rates:
                            seconds = (
                                duration if rate == config.latency_rate else config.knob_duration_s
                            )
                            runs.append(
                                {
                                    "setting": name,
                                    "env": knobs[name],
                                    **_latency(
                                        world, processes, people, rate, name, seconds, config
                                    ),
                                }
                            )
                    if name == "defaults" and "cpu" in config.sections:
                        result["cpu"] = _cpu(world, worker, crm, people, config)
            result["crm_errors"] = server_errors(crm.log_path)
        if runs:
            result["latency"] = {"placement": "unpinned", "runs": runs}


def _latency(
    world: stack.World,
    processes: dict[str, stack.Process],
    people: People,
    rate: float,
    name: str,
    duration_s: float,
    config: Config,
) -> dict[str, Any]:
    _progress(f"latency at {rate:g}/s: {name}")
    # A short warm-up: the first leads load the flow and open the CRM client.
    engine_latency.measure(
        world, processes, people, rate=rate, duration_s=min(2.0, duration_s), run_loop=_run
    )
    busy = _quiet(config)
    speed = stack.python_speed()
    found = engine_latency.measure(
        world, processes, people, rate=rate, duration_s=duration_s, run_loop=_run
    )
    return {**found, "busy_cores_before": busy, "python_loops_per_s": speed}


def _cpu(
    world: stack.World,
    worker: stack.Process,
    crm: stack.Process,
    people: People,
    config: Config,
) -> dict[str, Any]:
    _progress(f"CPU: the worker drains {config.cpu_leads} leads")
    # A warm-up drain first (the flow version, the CRM client, the first connections).
    engine_cpu.measure_engine(
        world, worker, crm, people, leads=max(5, config.cpu_leads // 10), run_loop=_run, idle_s=1.0
    )
    busy = _quiet(config)
    speed = stack.python_speed()
    engine = engine_cpu.measure_engine(
        world, worker, crm, people, leads=config.cpu_leads, run_loop=_run
    )
    engine.update(busy_cores_before=busy, python_loops_per_s=speed)
    _progress(f"CPU: the bare script makes {config.bare_leads} leads' calls")
    busy = _quiet(config)
    speed = stack.python_speed()
    bare = engine_cpu.measure_bare(world, crm, people, leads=config.bare_leads)
    bare.update(busy_cores_before=busy, python_loops_per_s=speed)
    return {
        "engine": engine,
        "bare": bare,
        "ratio": round(engine["cpu_ms_per_lead"] / bare["cpu_ms_per_lead"], 2),
        "ratio_above_idle": round(
            engine["cpu_ms_per_lead_above_idle"] / bare["cpu_ms_per_lead"], 2
        ),
    }


def run_budget(config: Config) -> dict[str, Any]:
    """Measure the rate budget's use against a CRM limited like HighLevel."""
    limits = {
        "crm_rate_burst": str(config.budget_burst),
        "crm_rate_interval_ms": str(round(config.budget_interval_s * 1000)),
        "engine_crm_burst": str(config.budget_burst),
        "engine_crm_interval_s": str(config.budget_interval_s),
    }
    with _world("sqlite", **limits) as (root, values, _db):
        proxy_port = stack.free_port()
        world = stack.provision(root, values, crm_url=f"http://{HOST}:{proxy_port}")
        with counting_proxy(world.crm_port, proxy_port) as seen:
            crm = stack.crm(world)
            worker = stack.worker(world)
            receiver = stack.receiver(world)
            with stack.running([crm, worker, receiver]):
                _progress(
                    f"rate budget: {config.budget_burst} per {config.budget_interval_s:g} s "
                    f"for {config.budget_window_s:g} s"
                )
                return engine_budget.measure(
                    world,
                    seen,
                    People(),
                    burst=config.budget_burst,
                    interval_s=config.budget_interval_s,
                    window_s=config.budget_window_s,
                    run_loop=_run,
                )


def run_memory(config: Config) -> dict[str, Any]:
    """Measure `leadwire up`'s memory while `leadwire demo` runs."""
    with tempfile.TemporaryDirectory(prefix="leadwire-bench-up-") as tmp:
        folder = engine_memory.up_folder(Path(tmp))
        up = engine_memory.up_process(folder)
        with stack.running([up]):
            _progress(f"memory: leadwire demo --count {config.memory_count}")
            _quiet(config)
            found = engine_memory.measure(
                folder, up, count=config.memory_count, rate=config.memory_rate
            )
        found["up_errors"] = server_errors(up.log_path)
        return found


def run(config: Config) -> dict[str, Any]:
    """Run the sections `config` names; return the whole result."""
    result: dict[str, Any] = {
        "bench": "engine",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": asdict(config),
        "machine": report.machine_facts(),
        "software": {**report.software(), "dbos": _version("dbos"), "httpx": _version("httpx")},
    }
    speed = result["python_loops_per_s"] = {"start": stack.python_speed()}
    if "intake" in config.sections:
        result["intake"] = {backend: run_intake(backend, config) for backend in config.backends}
        speed["after_intake"] = stack.python_speed()
    if "latency" in config.sections or "cpu" in config.sections:
        _latency_and_cpu(config, result)
        speed["after_latency_cpu"] = stack.python_speed()
    if "budget" in config.sections:
        result["budget"] = run_budget(config)
    if "memory" in config.sections:
        result["memory"] = run_memory(config)
        speed["after_memory"] = stack.python_speed()
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["aims"] = engine_report.check_aims(result)
    return result


def _speeds(speeds: dict[str, int]) -> str:
    return ", ".join(f"{name} {value / 1e6:.1f}" for name, value in speeds.items())


def _version(name: str) -> str | None:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def main(argv: list[str] | None = None) -> int:
    """Run the bench from the command line; print the tables and the JSON."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.engine", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--only", default=",".join(SECTIONS), help="comma-separated sections")
    parser.add_argument("--backends", help="intake backends (default: sqlite,postgres)")
    parser.add_argument("--json", type=Path, help="also write the result here")
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: does it work?")
    parser.add_argument(
        "--pin", action="store_true", help="intake: receiver on core 1, load generator on 0"
    )
    parser.add_argument(
        "--quiet-wait", type=float, help="seconds to wait for a quiet machine before each run"
    )
    parser.add_argument("--repeat", type=int, help="intake runs per client count (best kept)")
    parser.add_argument("--knobs", help="comma-separated worker settings to compare")
    args = parser.parse_args(argv)
    config = SMOKE if args.smoke else Config()
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    config = replace(config, sections=sections, pin=args.pin)
    if args.quiet_wait is not None:
        config = replace(config, quiet_wait_s=args.quiet_wait)
    if args.repeat is not None:
        config = replace(config, intake_repeat=args.repeat)
    if args.backends:
        config = replace(config, backends=tuple(args.backends.split(",")))
    if args.knobs:
        names = tuple(k.strip() for k in args.knobs.split(","))
        bad = sorted(set(names) - dict(KNOBS).keys())
        if bad:
            parser.error(f"unknown knobs: {', '.join(bad)}; known: {', '.join(dict(KNOBS))}")
        config = replace(config, knobs=names)
    result = run(config)
    machine = result["machine"]
    print(
        f"leadwire engine bench, {result['timestamp']}, {machine['nproc']} x "
        f"{machine['cpu_model']}, Python {machine['python']}, load average "
        f"{machine['loadavg_at_start']} at start, {machine['loadavg_at_end']} at end; "
        f"Python loop speed (M/s) {_speeds(result['python_loops_per_s'])}\n"
    )
    print(engine_report.table(result))
    text = json.dumps(result, indent=2, default=str)
    if args.json is not None:
        args.json.write_text(text + "\n")
    else:
        print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
