"""The CRM bench runs end to end and reports every number; its load generator measures honestly.

These tests check behaviour, never timings of the CRM: the smoke run asserts that each key is
present and that no request failed, not how fast anything was.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bench import load
from bench.client import Connection

ROOT = Path(__file__).resolve().parents[1]
RUN_KEYS = {"requests", "achieved_rps", "p50_ms", "p99_ms", "max_ms", "statuses", "errors"}


def run_bench(
    tmp_path: Path, module: str, *args: str, timeout: float
) -> tuple[dict[str, Any], str]:
    """Run `python -m module *args --json FILE` as a user would; return the JSON it wrote
    and what it printed."""
    out = tmp_path / f"{module}.json"
    done = subprocess.run(
        [sys.executable, "-m", module, *args, "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, Any] = json.loads(out.read_text())
    return result, done.stdout


@pytest.mark.slow
def test_smoke_run_measures_all_four_operations_without_errors(tmp_path: Path) -> None:
    result, printed = run_bench(
        tmp_path, "bench.crm", "--smoke", "--backend", "sqlite", timeout=300
    )
    assert {"timestamp", "backend", "config", "machine", "software", "seed", "aims"} <= set(result)
    assert {"nproc", "cpu_model", "python", "loadavg_at_start"} <= set(result["machine"])
    assert set(result["operations"]) == {"get", "upsert", "tags", "tasks"}
    for name, entry in result["operations"].items():
        assert entry["available"], f"{name}: {entry.get('probe')}"
        assert set(entry["throughput"]) >= RUN_KEYS, name
        assert RUN_KEYS | {"target_rps", "max_schedule_lag_ms"} <= set(entry["latency"]), name
        assert entry["throughput"]["errors"] == 0, entry["throughput"]["first_error"]
        assert entry["latency"]["errors"] == 0, entry["latency"]["first_error"]
        assert entry["server_cpu_ms_per_request"] > 0
        assert entry["server"]["peak_rss_mb"] > 0
    assert result["flagged"] is False
    assert result["server"]["errors_logged"]["exceptions"] == {}
    assert result["server"]["final"]["peak_rss_mb"] >= result["server"]["started"]["rss_mb"]
    assert "GET /contacts/{id}" in printed


async def _stalling_server(stall_on: int, stall_s: float) -> tuple[asyncio.Server, int]:
    """Serve `ok` to every request; the `stall_on`-th waits `stall_s` first; chunked replies."""
    seen = 0

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal seen
        try:
            while await reader.readuntil(b"\r\n\r\n"):
                seen += 1
                if seen == stall_on:
                    await asyncio.sleep(stall_s)
                writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                writer.write(b"2\r\nok\r\n0\r\n\r\n")
                await writer.drain()
        except asyncio.IncompleteReadError:
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    return server, server.sockets[0].getsockname()[1]


def test_open_loop_charges_every_request_queued_behind_a_stall() -> None:
    async def scenario() -> dict[str, object]:
        server, port = await _stalling_server(stall_on=3, stall_s=0.5)
        async with server:
            request = b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
            return await load.open_loop(
                "127.0.0.1", port, lambda _: request, rate=20, duration_s=1.0, connections=1
            )

    result = asyncio.run(scenario())
    assert result["statuses"] == {"200": 20}
    # Requests scheduled during the stall waited for it: measured from their scheduled time,
    # several are slow, not only the one the server held (which closed-loop would report).
    assert isinstance(result["p90_ms"], float)
    assert result["p90_ms"] >= 250
    assert isinstance(result["max_ms"], float)
    assert result["max_ms"] >= 450


def test_client_reads_chunked_bodies_on_a_kept_alive_connection() -> None:
    async def scenario() -> list[tuple[int, bytes]]:
        server, port = await _stalling_server(stall_on=0, stall_s=0)
        async with server:
            conn = Connection("127.0.0.1", port)
            try:
                return [await conn.send(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n") for _ in range(3)]
            finally:
                conn.close()

    assert asyncio.run(scenario()) == [(200, b"ok")] * 3


@pytest.mark.parametrize(
    ("values", "pct", "expected"),
    [
        ([0.001, 0.002, 0.003, 0.004], 50, 2.0),
        ([0.001, 0.002, 0.003, 0.004], 99, 4.0),
        ([0.005], 50, 5.0),
        ([0.004, 0.001, 0.003, 0.002], 100, 4.0),
    ],
)
def test_percentile_is_the_nearest_rank_in_milliseconds(
    values: list[float], pct: float, expected: float
) -> None:
    assert load.percentile_ms(values, pct) == expected


def test_percentile_of_nothing_is_none() -> None:
    assert load.percentile_ms([], 99) is None


ENGINE_SECTIONS = {"intake", "latency", "cpu", "budget", "memory"}
LATENCY_KEYS = {"p50_ms", "p90_ms", "p99_ms", "max_ms"}


@pytest.mark.slow
def test_engine_smoke_run_measures_every_section(tmp_path: Path) -> None:
    result, printed = run_bench(tmp_path, "bench.engine", "--smoke", timeout=600)
    assert {"timestamp", "config", "machine", "software", "aims"} | ENGINE_SECTIONS <= set(result)
    intake = result["intake"]["sqlite"]
    assert intake["every_lead_recorded"], intake["recorded"]
    for run in intake["runs"]:
        assert {"leads_per_s", "p50_ms", "p99_ms", "receiver_cpu_ms_per_lead"} <= set(run)
        assert run["errors"] == 0, run["first_error"]
    latency = result["latency"]["runs"][0]
    assert latency["http"]["errors"] == 0, latency["http"]["first_error"]
    assert latency["finished"] == latency["leads"]
    for part in ("latency", "intake", "pickup", "calls"):
        assert set(latency[part]) == LATENCY_KEYS
    cpu = result["cpu"]
    assert {"cpu_ms_per_lead", "cpu_ms_per_lead_above_idle"} <= set(cpu["engine"])
    assert cpu["bare"]["calls_per_lead"] == 4
    assert {"ratio", "ratio_above_idle", "floor_one_step_vs_bare"} <= set(cpu)
    assert {"steps_0", "steps_1"} == set(cpu["dbos_floor"])
    assert cpu["dbos_floor"]["steps_1"]["cpu_ms_per_workflow"] > 0
    budget = result["budget"]
    assert {"used", "allowed", "calls_ok", "rate_limited_total", "per_interval"} <= set(budget)
    assert budget["calls_ok"] > 0
    assert {"bulk_requests", "leads_done_per_100_calls_allowed"} <= set(budget)
    assert budget["without_bulk_tags"]["calls_ok"] > 0
    memory = result["memory"]
    assert memory["demo_exit_code"] == 0, memory["demo_output_tail"]
    assert memory["peak_rss_mb"] >= memory["rss_idle_mb"] > 0
    assert {"p50_ms", "p99_ms"} <= set(memory["demo"])
    assert set(result["aims"]) >= {"intake_sqlite_leads_per_s", "engine_cpu_per_lead_vs_bare"}
    assert "lead-to-CRM latency" in printed
