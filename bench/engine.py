"""Benchmark the engine end to end: intake, latency, CPU per lead, rate-budget use, memory.

    .venv/bin/python -m bench.engine [--only intake,latency,cpu,budget,memory]
        [--backends sqlite,postgres] [--json out.json] [--smoke] [--no-bulk-tags]
        [--no-idempotency-keys]

Prints a table per measurement and the issue's aims, then the whole result as JSON (to
`--json` if given, else after the tables).

Every server is a real `leadwire` process on a fresh data folder (and, for PostgreSQL, a fresh
database), reached over real sockets; every process is stopped at the end. See
docs/benchmarks.md ("The engine") for what each number means and how the two cores are shared.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import asdict, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import engine_report, report
from bench import engine_stack as stack
from bench.engine_config import KNOBS, SECTIONS, SMOKE, Config
from bench.engine_sections import run_budget, run_intake, run_latency_and_cpu, run_memory


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
        run_latency_and_cpu(config, result)
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
    parser.add_argument(
        "--no-bulk-tags",
        action="store_true",
        help="latency, cpu: the CRM connection without bulk tag updates",
    )
    parser.add_argument(
        "--no-idempotency-keys",
        action="store_true",
        help="a CRM connection without idempotency keys: tasks and notes looked up, then created",
    )
    args = parser.parse_args(argv)
    config = SMOKE if args.smoke else Config()
    sections = tuple(s.strip() for s in args.only.split(",") if s.strip())
    unknown = sorted(set(sections) - set(SECTIONS))
    if unknown:
        parser.error(f"unknown sections: {', '.join(unknown)}")
    config = replace(
        config,
        sections=sections,
        pin=args.pin,
        bulk_tags=not args.no_bulk_tags,
        idempotency_keys=not args.no_idempotency_keys,
    )
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
