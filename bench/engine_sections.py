"""The engine bench's five measurements, each on its own fresh world of `leadwire` processes."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from bench import engine_budget, engine_cpu, engine_latency, engine_memory, engine_webhook
from bench import engine_stack as stack
from bench.engine_config import KNOBS, UNLIMITED, Config
from bench.engine_leads import People
from bench.engine_proxy import counting_proxy
from bench.report import progress
from bench.server import HOST, postgres_database, server_errors


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
                database=database,
            )
            return {**found, "busy_cores_before": busy, "python_loops_per_s": speed}

        with stack.running([receiver]):
            stack.restrict_to({0} if config.pin else None)
            try:
                once(config.intake_warmup, max(config.intake_connections))
                for connections in config.intake_connections:
                    progress(f"intake on {backend}: {connections} clients")
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


def run_latency_and_cpu(config: Config, result: dict[str, Any]) -> None:
    """Measure latency per worker setting, and the CPU per lead, on one world.

    The CPU drain runs on the default worker, after its latency run (or on its own).
    """
    knobs = dict(KNOBS)
    names = config.knobs if "latency" in config.sections else ()
    if "cpu" in config.sections and "defaults" not in names:
        names = (*names, "defaults")
    with _world("sqlite", **UNLIMITED) as (root, values, _db):
        world = stack.provision(
            root, values, bulk_tags=config.bulk_tags, idempotency_keys=config.idempotency_keys
        )
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
                        duration = (
                            config.latency_duration_s
                            if name == "defaults"
                            else config.knob_duration_s
                        )
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
    progress(f"latency at {rate:g}/s: {name}")
    # A short warm-up: the first leads load the flow and open the CRM client.
    engine_latency.measure(world, processes, people, rate=rate, duration_s=min(2.0, duration_s))
    busy = _quiet(config)
    speed = stack.python_speed()
    found = engine_latency.measure(world, processes, people, rate=rate, duration_s=duration_s)
    return {**found, "busy_cores_before": busy, "python_loops_per_s": speed}


def _cpu(
    world: stack.World,
    worker: stack.Process,
    crm: stack.Process,
    people: People,
    config: Config,
) -> dict[str, Any]:
    progress(f"CPU: the worker drains {config.cpu_leads} leads")
    # A warm-up drain first (the flow version, the CRM client, the first connections).
    engine_cpu.measure_engine(
        world, worker, crm, people, leads=max(5, config.cpu_leads // 10), idle_s=1.0
    )
    busy = _quiet(config)
    speed = stack.python_speed()
    engine = engine_cpu.measure_engine(
        world,
        worker,
        crm,
        people,
        leads=config.cpu_leads,
    )
    engine.update(busy_cores_before=busy, python_loops_per_s=speed)
    progress(f"CPU: the bare script makes {config.bare_leads} leads' calls")
    busy = _quiet(config)
    speed = stack.python_speed()
    bare = engine_cpu.measure_bare(world, crm, people, leads=config.bare_leads)
    bare.update(busy_cores_before=busy, python_loops_per_s=speed)
    progress(f"CPU: DBOS alone drains {config.bare_leads} empty workflows")
    _quiet(config)
    floor = engine_cpu.measure_floor(config.bare_leads)
    return {
        "engine": engine,
        "bare": bare,
        "dbos_floor": floor,
        "floor_one_step_vs_bare": round(
            floor["steps_1"]["cpu_ms_per_workflow"] / bare["cpu_ms_per_lead"], 2
        ),
        "ratio": round(engine["cpu_ms_per_lead"] / bare["cpu_ms_per_lead"], 2),
        "ratio_above_idle": round(
            engine["cpu_ms_per_lead_above_idle"] / bare["cpu_ms_per_lead"], 2
        ),
    }


def run_budget(config: Config) -> dict[str, Any]:
    """Measure the rate budget's use against a CRM limited like HighLevel: with bulk tag
    updates (the default), then without (what they add)."""
    found = _budget_once(config, bulk_tags=True)
    alone = _budget_once(config, bulk_tags=False)
    keys = ("used", "calls_ok", "rate_limited_total", "leads_done_at_end")
    found["without_bulk_tags"] = {
        **{key: alone[key] for key in keys},
        "leads_done_per_100_calls_allowed": alone["leads_done_per_100_calls_allowed"],
    }
    return found


def _budget_once(config: Config, *, bulk_tags: bool) -> dict[str, Any]:
    limits = {
        "crm_rate_burst": str(config.budget_burst),
        "crm_rate_interval_ms": str(round(config.budget_interval_s * 1000)),
        "engine_crm_burst": str(config.budget_burst),
        "engine_crm_interval_s": str(config.budget_interval_s),
    }
    with _world("sqlite", **limits) as (root, values, _db):
        proxy_port = stack.free_port()
        world = stack.provision(
            root,
            values,
            crm_url=f"http://{HOST}:{proxy_port}",
            bulk_tags=bulk_tags,
            idempotency_keys=config.idempotency_keys,
        )
        with counting_proxy(world.crm_port, proxy_port) as seen:
            crm = stack.crm(world)
            worker = stack.worker(world)
            receiver = stack.receiver(world)
            with stack.running([crm, worker, receiver]):
                progress(
                    f"rate budget: {config.budget_burst} per {config.budget_interval_s:g} s "
                    f"for {config.budget_window_s:g} s, bulk tag updates "
                    + ("on" if bulk_tags else "off")
                )
                return engine_budget.measure(
                    world,
                    seen,
                    People(),
                    burst=config.budget_burst,
                    interval_s=config.budget_interval_s,
                    window_s=config.budget_window_s,
                )


def run_memory(config: Config) -> dict[str, Any]:
    """Measure `leadwire up`'s memory while `leadwire demo` runs."""
    with tempfile.TemporaryDirectory(prefix="leadwire-bench-up-") as tmp:
        folder = engine_memory.up_folder(Path(tmp))
        up = engine_memory.up_process(folder)
        with stack.running([up]):
            progress(f"memory: leadwire demo --count {config.memory_count}")
            _quiet(config)
            found = engine_memory.measure(
                folder, up, count=config.memory_count, rate=config.memory_rate
            )
        found["up_errors"] = server_errors(up.log_path)
        return found
