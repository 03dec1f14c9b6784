"""Webhook intake over HTTP: leads per second `leadwire serve` durably accepts, and what for.

Many concurrent clients (keep-alive connections) POST encrypted one-lead deliveries to a hook
as fast as the answers come back (closed loop); each lead is sent once. A lead counts as
accepted when its answer is 200 with `"accepted":1` — the receiver answers only after the
lead's workflow and run row are committed. Afterwards the bench checks in the database that
every accepted lead has its run row and its queued workflow. No worker runs meanwhile: the
receiver is measured alone.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import create_engine, text

from bench import load
from bench.client import Connection, ConnectionLostError, run_loop
from bench.engine_leads import People, delivery_requests
from bench.engine_stack import Process, World
from bench.server import HOST, machine_cpu_s, postgres_cpu_s, process_stats
from leadwire.engine.runtime.system_db import is_sqlite

ACCEPTED = b'"accepted":1'


async def deliver_all(port: int, requests: Sequence[bytes], *, connections: int) -> dict[str, Any]:
    """Send every request once over `connections` connections; return the run's numbers."""
    tally = load.Tally()
    accepted = 0
    todo = iter(range(len(requests)))

    async def client() -> None:
        nonlocal accepted
        conn = Connection(HOST, port)
        try:
            for i in todo:
                sent = time.perf_counter()
                try:
                    status, body = await conn.send(requests[i])
                except ConnectionLostError as exc:
                    tally.lost(exc)
                    continue
                tally.record(status, time.perf_counter() - sent, body)
                accepted += status == 200 and ACCEPTED in body
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(connections)))
    result = load.summary(tally, time.perf_counter() - start)
    result.update(connections=connections, accepted=accepted)
    return result


def count_recorded(database_url: str) -> dict[str, int]:
    """Count run rows and queued DBOS workflows in the engine's database."""
    sqlite = is_sqlite(database_url)
    # DBOS keeps its tables in the `dbos` schema on PostgreSQL.
    queued_sql = (
        "SELECT count(*) FROM workflow_status WHERE queue_name IS NOT NULL"
        if sqlite
        else "SELECT count(*) FROM dbos.workflow_status WHERE queue_name IS NOT NULL"
    )
    url = database_url if sqlite else database_url.replace("postgresql://", "postgresql+psycopg://")
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            runs = conn.scalar(text("SELECT count(*) FROM lw_runs"))
            queued = conn.scalar(text(queued_sql))
    finally:
        engine.dispose()
    return {"run_rows": int(runs or 0), "workflows": int(queued or 0)}


def measure(
    world: World,
    receiver: Process,
    people: People,
    *,
    leads: int,
    connections: int,
    database: str | None,
) -> dict[str, Any]:
    """Deliver `leads` fresh leads over `connections` clients; return rate, latency and CPU."""
    requests = delivery_requests(
        HOST, world.engine_port, world.hook_path, people.leads(leads), world.delivery_key
    )
    server0, client0, machine0 = process_stats(receiver.pid), time.process_time(), machine_cpu_s()
    db0 = postgres_cpu_s(database) if database else {}
    wall0 = time.perf_counter()
    result: dict[str, Any] = run_loop(
        lambda: deliver_all(world.engine_port, requests, connections=connections)
    )
    wall = time.perf_counter() - wall0
    server1, client1, machine1 = process_stats(receiver.pid), time.process_time(), machine_cpu_s()
    db1 = postgres_cpu_s(database) if database else {}
    server_s = server1["cpu_s"] - server0["cpu_s"]
    client_s = client1 - client0
    db_s = sum(cpu - db0.get(pid, 0.0) for pid, cpu in db1.items())
    busy_s = machine1["busy_s"] - machine0["busy_s"]
    result["leads"] = leads
    result["leads_per_s"] = round(result["accepted"] / result["elapsed_s"], 1)
    result["receiver_cpu_ms_per_lead"] = round(1000 * server_s / max(1, leads), 3)
    # What one free core would take if the receiver were CPU-bound (its GIL): an estimate that
    # holds across machines, and on a shared one, better than the measured rate.
    result["one_core_leads_per_s_estimate"] = round(leads / server_s) if server_s > 0 else None
    result["receiver_cpu_system_s"] = round(server1["cpu_system_s"] - server0["cpu_system_s"], 3)
    result["cpu_cores"] = {
        "receiver": round(server_s / wall, 2),
        "load_generator": round(client_s / wall, 2),
        "postgres": round(db_s / wall, 2) if database else None,
        "other": round(max(0.0, busy_s - server_s - client_s - db_s) / wall, 2),
    }
    result["receiver_rss_mb"] = server1["rss_mb"]
    return result
