"""Benchmark the embedded CRM: throughput, latency at a fixed rate, and memory, per operation.

    .venv/bin/python -m bench.crm --backend sqlite|postgres [--json out.json] [--wrk] [--smoke]

The CRM runs as its own process (`leadwire crm serve`) on a fresh store; the load generator
runs here, on the same cores. See docs/benchmarks.md for what each number means.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Coroutine
from contextlib import ExitStack
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import load, ops, profile, report, wrk
from bench.client import Endpoint, run_loop
from bench.report import progress
from bench.server import (
    HOST,
    CrmProcess,
    crm_process,
    machine_cpu_s,
    postgres_cpu_s,
    postgres_database,
    process_stats,
    server_errors,
)

OPERATIONS = ("get", "upsert", "tags", "tasks")


@dataclass(frozen=True)
class Config:
    """How hard and how long to push."""

    contacts: int = 1000
    duration_s: float = 10.0
    warmup_s: float = 2.0
    connections: int = 32
    rate: float = 200.0
    open_connections: int = 64
    seed_connections: int = 8


SMOKE = Config(
    contacts=20,
    duration_s=1.0,
    warmup_s=0.0,
    connections=4,
    rate=20.0,
    open_connections=8,
    seed_connections=4,
)


def seed(crm: CrmProcess, endpoint: Endpoint, config: Config) -> tuple[list[str], dict[str, Any]]:
    """Create the contacts every operation acts on; return their ids and how long it took."""
    requests = ops.seed_requests(endpoint, crm.location_id, config.contacts)
    start = time.perf_counter()
    answers = run_loop(
        lambda: load.batch(HOST, crm.port, requests, connections=config.seed_connections)
    )
    elapsed = time.perf_counter() - start
    ids = ops.contact_ids(answers)
    return ids, {
        "contacts": len(ids),
        "elapsed_s": round(elapsed, 2),
        "rps": round(len(ids) / elapsed, 1),
    }


def _timed(
    crm: CrmProcess, factory: Callable[[], Coroutine[Any, Any, dict[str, Any]]]
) -> dict[str, Any]:
    """Run one load; add where the machine's CPU went meanwhile (cores busy, on average)."""
    server0, client0, machine0 = process_stats(crm.pid), time.process_time(), machine_cpu_s()
    database = crm.database
    db0 = postgres_cpu_s(database) if database else {}
    wall0 = time.perf_counter()
    result = run_loop(factory)
    wall = time.perf_counter() - wall0
    server1, client1, machine1 = process_stats(crm.pid), time.process_time(), machine_cpu_s()
    db1 = postgres_cpu_s(database) if database else {}
    # Backends alive at the end: what they used since the start (or since they were forked).
    db_s = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items())
    server_s = server1["cpu_s"] - server0["cpu_s"]
    client_s = client1 - client0
    busy_s = machine1["busy_s"] - machine0["busy_s"]
    result["server_cpu_s"] = round(server_s, 3)
    result["server_cpu_system_s"] = round(server1["cpu_system_s"] - server0["cpu_system_s"], 3)
    result["server_cpu_ms_per_request"] = round(server_s * 1000 / max(1, result["requests"]), 3)
    result["cpu_cores"] = {
        "server": round(server_s / wall, 2),
        "load_generator": round(client_s / wall, 2),
        "postgres": round(db_s / wall, 2) if database else None,
        # Anything else on the machine: other processes, the kernel's own work.
        "other": round(max(0.0, busy_s - server_s - client_s - db_s) / wall, 2),
        "steal": round((machine1["steal_s"] - machine0["steal_s"]) / wall, 2),
    }
    return result


def measure(
    crm: CrmProcess, op: ops.Operation, config: Config, *, profile_dir: Path | None = None
) -> dict[str, Any]:
    """Probe one operation; if it exists, warm it up, then run closed- and open-loop."""
    entry: dict[str, Any] = {"route": op.route, "note": op.note}
    probe = run_loop(lambda: load.batch(HOST, crm.port, [op.make(0)], connections=1))[0]
    entry["probe_status"] = probe[0]
    if probe[0] in (404, 405):
        entry.update(
            available=False,
            probe=f"{probe[0]} {probe[1][:200].decode(errors='replace')}",
            flagged=True,
        )
        return entry
    entry["available"] = True
    if config.warmup_s > 0:
        run_loop(
            lambda: load.closed_loop(
                HOST, crm.port, op.make, connections=config.connections, duration_s=config.warmup_s
            )
        )
    throughput = _timed(
        crm,
        lambda: load.closed_loop(
            HOST, crm.port, op.make, connections=config.connections, duration_s=config.duration_s
        ),
    )
    time.sleep(0.5)
    latency = _timed(
        crm,
        lambda: load.open_loop(
            HOST,
            crm.port,
            op.make,
            rate=config.rate,
            duration_s=config.duration_s,
            connections=config.open_connections,
        ),
    )
    if profile_dir is not None:
        entry["profile"] = _profile(crm, op, config, profile_dir)
    per_request = throughput["server_cpu_s"] * 1000 / max(1, throughput["requests"])
    entry.update(
        throughput=throughput,
        latency=latency,
        server_cpu_ms_per_request=round(per_request, 3),
        # What one free core would serve if the server were CPU-bound on one core (its GIL):
        # an estimate that holds across machines better than a throughput taken on a busy one.
        cpu_bound_rps_estimate=round(1000 / per_request) if per_request > 0 else None,
        server=process_stats(crm.pid),
        flagged=bool(throughput["errors"] or latency["errors"]),
    )
    return entry


def _profile(crm: CrmProcess, op: ops.Operation, config: Config, out_dir: Path) -> str:
    """Sample the server during an extra closed-loop run, so the measured runs stay unsampled."""
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / f"{op.name}.txt"
    spy = profile.start(crm.pid, out, config.duration_s)
    try:
        run_loop(
            lambda: load.closed_loop(
                HOST,
                crm.port,
                op.make,
                connections=config.connections,
                duration_s=config.duration_s,
            )
        )
        _, err = spy.communicate(timeout=config.duration_s + 30)
    finally:
        if spy.poll() is None:
            spy.kill()
            spy.wait()
    if spy.returncode != 0:
        raise RuntimeError(f"py-spy failed: {err.decode(errors='replace')[-500:]}")
    return str(out)


def run(
    backend: str,
    config: Config,
    *,
    names: list[str],
    use_wrk: bool = False,
    sqlite_synchronous: str | None = None,
    profile_dir: Path | None = None,
) -> dict[str, Any]:
    """Start the CRM on `backend`, seed it, measure `names`; return the whole result."""
    result: dict[str, Any] = {
        "bench": "crm",
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "backend": backend,
        "config": asdict(config),
        "machine": report.machine_facts(),
        "software": report.software(),
    }
    run_tag = uuid.uuid4().hex[:8]
    progress(f"starting the CRM on {backend}")
    with tempfile.TemporaryDirectory(prefix="leadwire-bench-") as tmp, ExitStack() as stack:
        workdir = Path(tmp)
        url = stack.enter_context(postgres_database()) if backend == "postgres" else None
        crm = stack.enter_context(
            crm_process(workdir, database_url=url, sqlite_synchronous=sqlite_synchronous)
        )
        result["config"]["sqlite_synchronous"] = (
            None if backend == "postgres" else sqlite_synchronous or "FULL (default)"
        )
        started = process_stats(crm.pid)
        endpoint = Endpoint(HOST, crm.port, crm.token)
        progress(f"seeding {config.contacts} contacts")
        ids, result["seed"] = seed(crm, endpoint, config)
        seeded = process_stats(crm.pid)
        result["operations"] = {}
        for op in ops.operations(endpoint, crm.location_id, ids, run_tag):
            if op.name not in names:
                continue
            progress(f"measuring {op.route}")
            entry = measure(crm, op, config, profile_dir=profile_dir)
            if use_wrk and entry["available"]:
                progress(f"cross-checking {op.route} with wrk")
                entry["wrk"] = wrk.run(
                    op.name,
                    port=crm.port,
                    token=crm.token,
                    location_id=crm.location_id,
                    ids=ids,
                    tag=run_tag,
                    connections=config.connections,
                    duration_s=config.duration_s,
                    workdir=workdir,
                )
            result["operations"][op.name] = entry
        result["server"] = {
            "started": started,
            "seeded": seeded,
            "final": process_stats(crm.pid),
            "errors_logged": server_errors(crm.log),
        }
    result["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    result["aims"] = report.check_aims(result)
    result["flagged"] = any(e["flagged"] for e in result["operations"].values())
    return result


def main(argv: list[str] | None = None) -> int:
    """Run the bench from the command line; print the table; write JSON if asked."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.crm", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--json", type=Path, help="write the full result here")
    parser.add_argument("--smoke", action="store_true", help="1 s per run at a low rate")
    parser.add_argument("--ops", default=",".join(OPERATIONS), help="comma-separated subset")
    parser.add_argument("--contacts", type=int, help=f"contacts to seed ({Config.contacts})")
    parser.add_argument("--duration", type=float, help=f"seconds per run ({Config.duration_s})")
    parser.add_argument("--warmup", type=float, help=f"warm-up seconds ({Config.warmup_s})")
    parser.add_argument("--rate", type=float, help=f"open-loop requests/s ({Config.rate})")
    parser.add_argument(
        "--connections", type=int, help=f"closed-loop connections ({Config.connections})"
    )
    parser.add_argument("--wrk", action="store_true", help="cross-check throughput with wrk")
    parser.add_argument(
        "--profile", type=Path, metavar="DIR", help="also sample the server with py-spy into DIR"
    )
    parser.add_argument(
        "--sqlite-synchronous",
        choices=("OFF", "NORMAL", "FULL", "EXTRA"),
        help="override the server's SQLite synchronous level",
    )
    args = parser.parse_args(argv)
    config = SMOKE if args.smoke else Config()
    overrides = {
        "contacts": args.contacts,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "rate": args.rate,
        "connections": args.connections,
    }
    config = Config(**{**asdict(config), **{k: v for k, v in overrides.items() if v is not None}})
    names = [n.strip() for n in args.ops.split(",") if n.strip()]
    unknown = sorted(set(names) - set(OPERATIONS))
    if unknown:
        parser.error(f"unknown operations: {', '.join(unknown)}")
    if args.profile is not None and profile.py_spy() is None:
        parser.error("--profile needs py-spy: .venv/bin/pip install py-spy")
    use_wrk = args.wrk and wrk.is_available()
    if args.wrk and not use_wrk:
        print("wrk is not installed: skipping the cross-check", file=sys.stderr)
    result = run(
        args.backend,
        config,
        names=names,
        use_wrk=use_wrk,
        sqlite_synchronous=args.sqlite_synchronous,
        profile_dir=args.profile,
    )
    machine = result["machine"]
    print(
        f"leadwire CRM bench, {result['backend']}, {result['timestamp']}, "
        f"{machine['nproc']} x {machine['cpu_model']}, Python {machine['python']}"
    )
    print(
        f"seeded {result['seed']['contacts']} contacts at {result['seed']['rps']} req/s; "
        f"closed-loop {config.connections} connections x {config.duration_s} s; "
        f"open-loop {config.rate} req/s x {config.duration_s} s\n"
    )
    print(report.table(result))
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
