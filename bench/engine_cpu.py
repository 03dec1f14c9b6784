"""The engine's CPU per lead next to a bare httpx script making the same four CRM calls.

Engine: a backlog of leads is delivered to the receiver as fast as it takes them, then the
worker (`leadwire worker`, its own process) drains it; its CPU time (`/proc/PID/stat`, all
threads) over the drain, divided by the leads. Its idle cost — DBOS polling the queue — is
measured for a few seconds before and reported apart, so the per-lead number can be read
with and without it. Bare: `bench.engine_bare` in its own process, the same calls (taken
from the engine's own planner for fresh leads of the same shape) against the same CRM. Floor:
`bench.engine_floor`, empty DBOS workflows drained by the same runtime, the part of a lead's
cost no engine built on one workflow per lead can shed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bench.client import run_loop
from bench.engine_leads import People, delivery_requests
from bench.engine_runs import reader, wait_done
from bench.engine_stack import FLOW_FILE, Process, World
from bench.engine_webhook import deliver_all
from bench.server import HOST, process_stats
from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.flows.document import FlowVersion
from leadwire.engine.flows.loading import load_flow
from leadwire.engine.planning import CrmCall, plan

ROOT = Path(__file__).resolve().parent.parent


def planned_calls(leads: Sequence[Lead], location_id: str) -> list[list[dict[str, Any]]]:
    """Return the CRM calls the bench flow makes for each lead, as the engine plans them."""
    version = FlowVersion("bench", 1, load_flow(FLOW_FILE.read_text()))
    found: list[list[dict[str, Any]]] = []
    for lead in leads:
        calls = plan(version, lead, location_id=location_id).actions
        found.append(
            [
                {
                    "method": call.method,
                    "path": call.path,
                    "body": call.body,
                    "idempotency_key": call.idempotency_key,
                    "gives_contact_id": call.gives_contact_id,
                }
                for call in calls
                if isinstance(call, CrmCall)
            ]
        )
    return found


def measure_bare(world: World, crm: Process, people: People, *, leads: int) -> dict[str, Any]:
    """Run the bare script over `leads` fresh leads; return its numbers and the CRM's CPU."""
    calls = planned_calls(people.leads(leads), world.location_id)
    with tempfile.NamedTemporaryFile("w", suffix=".json", dir=world.root, delete=False) as out:
        json.dump(calls, out)
    env = {**os.environ, "BENCH_CRM_TOKEN": world.api_key}
    crm_before = process_stats(crm.pid)["cpu_s"]
    try:
        out_text = _run_module(
            "bench.engine_bare", out.name, "--base-url", f"http://{HOST}:{world.crm_port}", env=env
        )
    finally:
        Path(out.name).unlink()
    crm_s = process_stats(crm.pid)["cpu_s"] - crm_before
    result: dict[str, Any] = json.loads(out_text)
    result["calls_per_lead"] = round(result["calls"] / max(1, result["leads"]), 2)
    # The CRM's side of the same calls, one at a time: its cost without concurrency.
    result["crm_cpu_ms_per_lead"] = round(1000 * crm_s / max(1, leads), 2)
    return result


def measure_floor(workflows: int) -> dict[str, Any]:
    """DBOS's own CPU per workflow with no step and with one (`bench.engine_floor`)."""
    out = _run_module(
        "bench.engine_floor", "--workflows", str(workflows), "--steps", "0,1", "--json", "-"
    )
    rows: list[dict[str, Any]] = json.loads(out.strip().splitlines()[-1])
    return {f"steps_{row['steps']}": row for row in rows}


def _run_module(module: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run a bench module in its own process (its CPU is its own); return its output."""
    done = subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{module} failed:\n{done.stderr[-3000:]}")
    return done.stdout


def idle_cpu_cores(process: Process, seconds: float) -> float:
    """Return the cores `process` uses while nothing is sent to it."""
    before = process_stats(process.pid)["cpu_s"]
    time.sleep(seconds)
    return round((process_stats(process.pid)["cpu_s"] - before) / seconds, 4)


def measure_engine(
    world: World,
    worker: Process,
    crm: Process,
    people: People,
    *,
    leads: int,
    idle_s: float = 3.0,
    timeout_s: float = 300.0,
) -> dict[str, Any]:
    """Deliver `leads` leads at once and let the worker drain them; return its CPU per lead."""
    idle = idle_cpu_cores(worker, idle_s)
    batch = people.leads(leads)
    requests = delivery_requests(
        HOST, world.engine_port, world.hook_path, batch, world.delivery_key
    )
    before, wall0 = process_stats(worker.pid), time.perf_counter()
    crm_before = process_stats(crm.pid)["cpu_s"]
    intake = run_loop(lambda: deliver_all(world.engine_port, requests, connections=16))
    with reader(world.settings().app_url()) as engine:
        done = wait_done(engine, [lead.lead_id for lead in batch], timeout_s=timeout_s)
    wall = time.perf_counter() - wall0
    after = process_stats(worker.pid)
    crm_s = process_stats(crm.pid)["cpu_s"] - crm_before
    cpu_s = after["cpu_s"] - before["cpu_s"]
    net_s = max(0.0, cpu_s - idle * wall)
    return {
        "leads": leads,
        "finished": done,
        "accepted": intake["accepted"],
        "wall_s": round(wall, 2),
        "leads_per_s": round(done / wall, 1) if wall > 0 else None,
        "worker_cpu_s": round(cpu_s, 3),
        "worker_cpu_system_s": round(after["cpu_system_s"] - before["cpu_system_s"], 3),
        "idle_cpu_cores": idle,
        "cpu_ms_per_lead": round(1000 * cpu_s / max(1, leads), 2),
        "cpu_ms_per_lead_above_idle": round(1000 * net_s / max(1, leads), 2),
        "worker_peak_rss_mb": after["peak_rss_mb"],
        "crm_cpu_ms_per_lead": round(1000 * crm_s / max(1, leads), 2),
    }
