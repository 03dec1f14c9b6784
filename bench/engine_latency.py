"""Lead-to-CRM latency at a steady rate: from a delivery's send time to its run's `finished_at`.

Leads are POSTed to the receiver (`leadwire serve`) as encrypted deliveries on a fixed
schedule that never waits for answers (open loop); each lead's clock starts at its
*scheduled* send time, so a stalled receiver is charged to every lead behind it. A separate
`leadwire worker` runs them through the bench flow (four CRM calls) against `leadwire crm
serve`. Latency = `finished_at` (the run's last CRM call returned) minus scheduled send time, and
it is split into: intake (send → `received_at`, the receiver's commit), pick-up (→ the first
CRM call: queue polling, the workflow's start and its `prepare` checkpoint) and calls (→
`finished_at`: the four calls and the checkpoints between them).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from bench import load
from bench.client import Connection, ConnectionLostError, run_loop
from bench.engine_leads import People, delivery_requests
from bench.engine_runs import reader, run_times, wait_done
from bench.engine_stack import Process, World
from bench.engine_webhook import ACCEPTED
from bench.server import HOST, machine_cpu_s, process_stats


async def send_at_rate(
    port: int, requests: Sequence[bytes], *, rate: float, connections: int = 32
) -> tuple[list[float], dict[str, Any]]:
    """Send request i at start + i/rate; return each one's scheduled epoch time and a summary."""
    tally = load.Tally()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(HOST, port))
    accepted = 0

    async def one(request: bytes, scheduled: float) -> None:
        nonlocal accepted
        conn = await pool.get()
        try:
            # No retry: leadwire's servers keep idle connections longer than a run lasts
            # (`leadwire.asgi.KEEP_ALIVE_S`), so a lost connection is a failure to count.
            status, body = await conn.send(request)
        except ConnectionLostError as exc:
            tally.lost(exc)
            return
        finally:
            pool.put_nowait(conn)
        tally.record(status, time.perf_counter() - scheduled, body)
        accepted += status == 200 and ACCEPTED in body

    # One clock for both: perf_counter schedules, the epoch offset dates the schedule.
    start = time.perf_counter() + 0.05
    epoch_offset = time.time() - time.perf_counter()
    scheduled_epochs: list[float] = []
    tasks: list[asyncio.Task[None]] = []
    for i, request in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        scheduled_epochs.append(scheduled + epoch_offset)
        tasks.append(asyncio.create_task(one(request, scheduled)))
    await asyncio.gather(*tasks)
    while not pool.empty():
        pool.get_nowait().close()
    result = load.summary(tally, time.perf_counter() - start)
    result["accepted"] = accepted
    return scheduled_epochs, result


def _ms(values: list[float], pct: float) -> float | None:
    return load.percentile_ms(values, pct)


def _spread(values_s: list[float]) -> dict[str, float | None]:
    return {
        "p50_ms": _ms(values_s, 50),
        "p90_ms": _ms(values_s, 90),
        "p99_ms": _ms(values_s, 99),
        "max_ms": _ms(values_s, 100),
    }


def measure(
    world: World,
    processes: dict[str, Process],
    people: People,
    *,
    rate: float,
    duration_s: float,
    timeout_s: float = 120.0,
) -> dict[str, Any]:
    """Send `rate` leads/s for `duration_s`, wait for their runs; return latencies and CPU."""
    leads = people.leads(max(1, round(rate * duration_s)))
    lead_ids = [lead.lead_id for lead in leads]
    requests = delivery_requests(
        HOST, world.engine_port, world.hook_path, leads, world.delivery_key
    )
    before = {name: process_stats(p.pid) for name, p in processes.items()}
    machine0, wall0, client0 = machine_cpu_s(), time.perf_counter(), time.process_time()
    scheduled, http = run_loop(lambda: send_at_rate(world.engine_port, requests, rate=rate))
    with reader(world.settings().app_url()) as engine:
        done = wait_done(engine, lead_ids, timeout_s=timeout_s)
        wall = time.perf_counter() - wall0
        after = {name: process_stats(p.pid) for name, p in processes.items()}
        machine1, client1 = machine_cpu_s(), time.process_time()
        times = {t.lead_id: t for t in run_times(engine, lead_ids)}
    total: list[float] = []
    intake: list[float] = []
    pickup: list[float] = []
    calls: list[float] = []
    statuses: dict[str, int] = {}
    retried = 0
    for lead_id, sent in zip(lead_ids, scheduled, strict=True):
        found = times.get(lead_id)
        if found is None:
            statuses["missing"] = statuses.get("missing", 0) + 1
            continue
        statuses[found.status] = statuses.get(found.status, 0) + 1
        retried += found.attempts > 1
        received = found.received_at.timestamp()
        intake.append(max(0.0, received - sent))
        if found.finished_at is None:
            continue
        finished = found.finished_at.timestamp()
        total.append(finished - sent)
        if found.first_call_at is not None:
            first = found.first_call_at.timestamp()
            pickup.append(max(0.0, first - received))
            calls.append(max(0.0, finished - first))
    cpu = {name: round(after[name]["cpu_s"] - before[name]["cpu_s"], 3) for name in processes}
    client_s = client1 - client0
    busy_s = machine1["busy_s"] - machine0["busy_s"]
    return {
        "rate": rate,
        "duration_s": duration_s,
        "leads": len(leads),
        "finished": done,
        "statuses": statuses,
        "runs_retried": retried,
        "http": {
            k: http[k]
            for k in ("achieved_rps", "p50_ms", "p99_ms", "errors", "first_error", "accepted")
        },
        "latency": _spread(total),
        "intake": _spread(intake),
        "pickup": _spread(pickup),
        "calls": _spread(calls),
        "wall_s": round(wall, 2),
        "cpu_s": cpu,
        "cpu_ms_per_lead": {name: round(1000 * s / len(leads), 2) for name, s in cpu.items()},
        "cpu_cores": {
            **{name: round(s / wall, 2) for name, s in cpu.items()},
            "load_generator": round(client_s / wall, 2),
            "other": round(max(0.0, busy_s - sum(cpu.values()) - client_s) / wall, 2),
        },
        "peak_rss_mb": {name: after[name]["peak_rss_mb"] for name in processes},
    }
