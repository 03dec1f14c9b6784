"""Machine facts, the issue's aims checked against a result, and the table printed on stdout."""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
import time
from importlib import metadata
from pathlib import Path
from typing import Any

# The aims of the issue. Throughput aims are stated for SQLite, the embedded default.
AIM_GET_RPS = 1000
AIM_UPSERT_RPS = 400
AIM_P99_MS = 25.0
AIM_RATE_RPS = 200
AIM_RSS_MB = 150
PACKAGES = ("fastapi", "starlette", "uvicorn", "sqlalchemy", "pydantic", "psycopg", "uvloop")


def progress(message: str) -> None:
    """Say on stderr, with the time, what a bench is doing (stdout is the results')."""
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_facts() -> dict[str, Any]:
    """Return what a reader needs to compare numbers across machines."""
    model = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    mem_kb = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal:"):
            mem_kb = int(line.split()[1])
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "mem_total_mb": mem_kb // 1024,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "sqlite": sqlite3.sqlite_version,
        # Other work on the machine skews every number: a busy machine is visible here.
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def software() -> dict[str, Any]:
    """Return versions of the server's main libraries and the commit being measured."""
    versions: dict[str, Any] = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    root = Path(__file__).resolve().parent.parent
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=root, capture_output=True, text=True
    )
    dirty = subprocess.run(
        ["git", "status", "--porcelain", "src"], cwd=root, capture_output=True, text=True
    )
    versions["commit"] = head.stdout.strip() or None
    versions["src_modified"] = bool(dirty.stdout.strip())
    return versions


def check_aims(result: dict[str, Any]) -> dict[str, Any]:
    """Return each aim of the issue with the measured value and whether it is met."""
    ops = result["operations"]
    is_sqlite = result["backend"] == "sqlite"
    aims: dict[str, Any] = {}

    def aim(name: str, target: float, value: float | None, *, higher: bool) -> None:
        met = None if value is None else (value >= target if higher else value <= target)
        aims[name] = {"target": target, "value": value, "met": met}

    if is_sqlite:
        for op, target in (("get", AIM_GET_RPS), ("upsert", AIM_UPSERT_RPS)):
            value = ops.get(op, {}).get("throughput", {}) or {}
            aim(f"{op}_rps", target, value.get("achieved_rps"), higher=True)
    at_aim_rate = result["config"]["rate"] == AIM_RATE_RPS
    for op, entry in ops.items():
        latency = entry.get("latency") or {}
        name = f"{op}_p99_ms_at_{AIM_RATE_RPS}_rps"
        aim(name, AIM_P99_MS, latency.get("p99_ms"), higher=False)
        if not at_aim_rate:
            # Measured at another rate: show the number, judge nothing.
            aims[name]["met"] = None
    aim("server_peak_rss_mb", AIM_RSS_MB, result["server"]["final"]["peak_rss_mb"], higher=False)
    return aims


def _cell(value: object) -> str:
    return "-" if value is None else str(value)


def table(result: dict[str, Any]) -> str:
    """Return the result as a fixed-width table with the aims under it."""
    head = (
        f"{'operation':<27}{'max rps':>9}{'wrk rps':>9}{'cpu ms/req':>11}"
        f"{'p50 ms':>8}{'p99 ms':>8}{'max ms':>8}{'at rps':>8}{'errors':>8}{'rss MB':>8}"
        f"{'pg cpu':>8}{'other cpu':>10}  flag"
    )
    lines = [head, "-" * len(head)]
    for entry in result["operations"].values():
        if not entry["available"]:
            lines.append(f"{entry['route']:<27}  not available: {entry['probe']}")
            continue
        thr, lat = entry["throughput"], entry["latency"]
        wrk = (entry.get("wrk") or {}).get("rps")
        errors = thr["errors"] + lat["errors"]
        lines.append(
            f"{entry['route']:<27}{thr['achieved_rps']:>9}{_cell(wrk):>9}"
            f"{_cell(entry['server_cpu_ms_per_request']):>11}"
            f"{_cell(lat['p50_ms']):>8}{_cell(lat['p99_ms']):>8}{_cell(lat['max_ms']):>8}"
            f"{lat['achieved_rps']:>8}{errors:>8}{entry['server']['peak_rss_mb']:>8}"
            f"{_cell(thr['cpu_cores']['postgres']):>8}{thr['cpu_cores']['other']:>10}"
            f"  {'ERRORS' if entry['flagged'] else ''}"
        )
    lines.append("")
    busy = [
        e
        for e in result["operations"].values()
        if e["available"]
        and max(e["throughput"]["cpu_cores"]["other"], e["latency"]["cpu_cores"]["other"]) > 0.3
    ]
    if busy:
        lines.append("WARNING: other work used more than 0.3 core during some runs ('other cpu'):")
        lines.append("         those numbers understate the server; re-run on a quiet machine.")
        lines.append("")
    for exception, count in result["server"]["errors_logged"]["exceptions"].items():
        lines.append(f"server logged {count} x {exception}")
    for name, aim in result["aims"].items():
        verdict = {True: "met", False: "MISSED", None: "not judged"}[aim["met"]]
        lines.append(
            f"aim {name:<32} target {aim['target']:<8} got {_cell(aim['value']):<9} {verdict}"
        )
    return "\n".join(lines)
