"""Rate-budget use: how much of a rate-limited CRM's budget the engine spends while leads wait.

The CRM runs with HighLevel's limit (by default 100 requests per 10 s per location); the
engine is left at its defaults (it assumes that limit and follows the CRM's `X-RateLimit-*`
headers). A backlog of leads — more than the window can serve — is delivered at once; the
worker reaches the CRM through a counting proxy (bench/engine_proxy.py). Over a window of
whole intervals starting at the first call: used = calls answered 2xx / calls allowed
(burst x window / interval), and every 429 is counted (the aim: none). How many leads that
budget carried is counted too, and how many bulk tag updates carried several leads' tags.
"""

from __future__ import annotations

import math
import time
from typing import Any

from bench.client import run_loop
from bench.engine_leads import People, delivery_requests
from bench.engine_proxy import Seen
from bench.engine_runs import count_done, reader, status_counts
from bench.engine_stack import CALLS_PER_LEAD, World
from bench.engine_webhook import deliver_all
from bench.server import HOST


def backlog_size(burst: int, interval_s: float, window_s: float) -> int:
    """Return how many leads keep the engine busy past the window (with a margin)."""
    return math.ceil(1.5 * burst * (window_s / interval_s) / CALLS_PER_LEAD) + 10


def analyse(
    answers: list[tuple[float, int]], *, burst: int, interval_s: float, window_s: float
) -> dict[str, Any]:
    """Return the budget used over `window_s` from the first answer, per interval and in all."""
    if not answers:
        return {"calls": 0, "used": None, "rate_limited": 0, "per_interval": []}
    t0 = answers[0][0]
    intervals = max(1, round(window_s / interval_s))
    per_interval = [0] * intervals
    ok = limited = other = 0
    for at, status in answers:
        slot = int((at - t0) // interval_s)
        if slot >= intervals:
            continue
        if status == 429:
            limited += 1
        elif 200 <= status < 300:
            ok += 1
            per_interval[slot] += 1
        else:
            other += 1
    allowed = burst * intervals
    return {
        "window_s": intervals * interval_s,
        "allowed": allowed,
        "calls_ok": ok,
        "calls_429": limited,
        "calls_other_errors": other,
        "used": round(ok / allowed, 3),
        "per_interval": per_interval,
        "rate_limited_total": sum(1 for _, status in answers if status == 429),
        "calls_total": len(answers),
    }


def measure(
    world: World,
    seen: Seen,
    people: People,
    *,
    burst: int,
    interval_s: float,
    window_s: float,
) -> dict[str, Any]:
    """Deliver a backlog, watch the CRM calls for `window_s`; return the budget's use."""
    leads = people.leads(backlog_size(burst, interval_s, window_s))
    requests = delivery_requests(
        HOST, world.engine_port, world.hook_path, leads, world.delivery_key
    )
    intake = run_loop(lambda: deliver_all(world.engine_port, requests, connections=16))
    deadline = time.monotonic() + window_s + 60
    while not seen.snapshot() and time.monotonic() < deadline:
        time.sleep(0.05)
    first = seen.snapshot()[0][0] if seen.snapshot() else time.time()
    # Whole intervals from the first call, and a moment for the last answers to come in.
    time.sleep(max(0.0, first + math.ceil(window_s / interval_s) * interval_s + 0.5 - time.time()))
    answers = seen.snapshot()
    with reader(world.settings().app_url()) as engine:
        done = count_done(engine, [lead.lead_id for lead in leads])
        statuses = status_counts(engine)
    result = analyse(answers, burst=burst, interval_s=interval_s, window_s=window_s)
    ends = answers[0][0] + result["window_s"] if answers else 0.0
    bulk = [at for at, status in seen.bulk_snapshot() if at < ends and 200 <= status < 300]
    allowed = result.get("allowed") or 1
    result.update(
        bulk_requests=len(bulk),
        # A lead costs four calls alone, so without bulk requests at most 25.
        leads_done_per_100_calls_allowed=round(100 * done / allowed, 1),
        burst=burst,
        interval_s=interval_s,
        backlog_leads=len(leads),
        accepted=intake["accepted"],
        leads_done_at_end=done,
        backlog_left_at_end=len(leads) - done,
        run_statuses=statuses,
        # Every answer the proxy saw: seconds since the first, and the status.
        timeline=[[round(at - answers[0][0], 3), status] for at, status in answers],
    )
    return result
