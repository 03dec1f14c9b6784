"""Load shapes: closed-loop (how fast can it go) and open-loop (how long at a fixed rate).

Open-loop sends on a timer that never waits for answers and measures each latency from the
time the request was *scheduled*, so a stalled server is charged for every request it held up
(no coordinated omission). Requests waiting for a free connection are charged the wait too.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.client import Connection, ConnectionLostError

# Builds the i-th request of a run: pre-encoded bytes.
MakeRequest = Callable[[int], bytes]


@dataclass
class Tally:
    """What a run saw: latencies (s) of answered requests, statuses, failures."""

    latencies_s: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    transport_errors: int = 0
    first_error: str | None = None

    def record(self, status: int, latency_s: float, body: bytes) -> None:
        """Count one answer; keep the first non-2xx body to show what went wrong."""
        self.statuses[status] += 1
        self.latencies_s.append(latency_s)
        if not 200 <= status < 300 and self.first_error is None:
            self.first_error = f"{status} {body[:300].decode(errors='replace')}"

    def lost(self, error: Exception) -> None:
        """Count a request that got no answer at all."""
        self.transport_errors += 1
        if self.first_error is None:
            self.first_error = f"transport: {error}"

    @property
    def errors(self) -> int:
        """Non-2xx answers plus requests that got no answer."""
        bad = sum(n for status, n in self.statuses.items() if not 200 <= status < 300)
        return bad + self.transport_errors


def percentile_ms(values_s: list[float], pct: float) -> float | None:
    """Return the `pct` percentile (nearest rank) of `values_s`, in milliseconds."""
    if not values_s:
        return None
    ordered = sorted(values_s)
    rank = min(len(ordered) - 1, max(0, math.ceil(pct / 100 * len(ordered)) - 1))
    return round(ordered[rank] * 1000, 2)


def summary(tally: Tally, elapsed_s: float) -> dict[str, Any]:
    """Return the JSON-ready numbers of a run."""
    done = len(tally.latencies_s)
    return {
        "requests": done + tally.transport_errors,
        "elapsed_s": round(elapsed_s, 3),
        "achieved_rps": round(done / elapsed_s, 1) if elapsed_s > 0 else 0.0,
        "p50_ms": percentile_ms(tally.latencies_s, 50),
        "p90_ms": percentile_ms(tally.latencies_s, 90),
        "p99_ms": percentile_ms(tally.latencies_s, 99),
        "max_ms": percentile_ms(tally.latencies_s, 100),
        "statuses": {str(k): v for k, v in sorted(tally.statuses.items())},
        "errors": tally.errors,
        "first_error": tally.first_error,
    }


async def closed_loop(
    host: str, port: int, make: MakeRequest, *, connections: int, duration_s: float
) -> dict[str, Any]:
    """Keep `connections` requests in flight for `duration_s`; return throughput and latency."""
    tally = Tally()
    counter = iter(range(1 << 62))
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        conn = Connection(host, port)
        try:
            while time.perf_counter() < deadline:
                request = make(next(counter))
                sent = time.perf_counter()
                try:
                    status, body = await conn.send(request)
                except ConnectionLostError as exc:
                    tally.lost(exc)
                    continue
                tally.record(status, time.perf_counter() - sent, body)
        finally:
            conn.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result = summary(tally, time.perf_counter() - start)
    result["connections"] = connections
    return result


async def open_loop(
    host: str, port: int, make: MakeRequest, *, rate: float, duration_s: float, connections: int
) -> dict[str, Any]:
    """Send `rate` requests/s on a fixed schedule for `duration_s`, whatever the answers."""
    tally = Tally()
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(host, port))
    late_s = 0.0

    async def one(i: int, scheduled: float) -> None:
        conn = await pool.get()
        try:
            status, body = await conn.send(make(i))
        except ConnectionLostError as exc:
            tally.lost(exc)
            return
        finally:
            pool.put_nowait(conn)
        tally.record(status, time.perf_counter() - scheduled, body)

    total = max(1, int(rate * duration_s))
    tasks: list[asyncio.Task[None]] = []
    start = time.perf_counter() + 0.01
    for i in range(total):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        else:
            late_s = max(late_s, -delay)
        tasks.append(asyncio.create_task(one(i, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().close()
    result = summary(tally, elapsed)
    result.update(
        target_rps=rate, connections=connections, max_schedule_lag_ms=round(late_s * 1000, 2)
    )
    return result


async def batch(
    host: str, port: int, requests: list[bytes], *, connections: int
) -> list[tuple[int, bytes]]:
    """Send every request once, `connections` at a time; return answers in request order."""
    answers: list[tuple[int, bytes]] = [(0, b"")] * len(requests)
    indices = iter(range(len(requests)))

    async def worker() -> None:
        conn = Connection(host, port)
        try:
            for i in indices:
                answers[i] = await conn.send(requests[i])
        finally:
            conn.close()

    await asyncio.gather(*(worker() for _ in range(connections)))
    return answers
