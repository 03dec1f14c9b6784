"""The engine bench's aims (issue 4) checked against a result, and the tables printed on stdout."""

from __future__ import annotations

from typing import Any

AIM_INTAKE_LEADS_PER_S = 1000
AIM_LATENCY_P50_MS = 100.0
AIM_LATENCY_P99_MS = 500.0
AIM_LATENCY_RATE = 20.0
AIM_CPU_RATIO = 2.0
AIM_BUDGET_USED = 0.9
AIM_PEAK_RSS_MB = 300.0


def _aim(target: float, value: float | None, *, higher: bool) -> dict[str, Any]:
    met = None if value is None else (value >= target if higher else value <= target)
    return {"target": target, "value": value, "met": met}


def check_aims(result: dict[str, Any]) -> dict[str, Any]:
    """Return each aim of the issue with the measured value and whether it is met."""
    aims: dict[str, Any] = {}
    sqlite = (result.get("intake") or {}).get("sqlite")
    if sqlite:
        best = max((run["leads_per_s"] for run in sqlite["runs"]), default=None)
        aims["intake_sqlite_leads_per_s"] = _aim(AIM_INTAKE_LEADS_PER_S, best, higher=True)
    latency = result.get("latency")
    if latency:
        base = latency["runs"][0]
        judged = base["rate"] == AIM_LATENCY_RATE
        for key, target in (("p50_ms", AIM_LATENCY_P50_MS), ("p99_ms", AIM_LATENCY_P99_MS)):
            aims[f"latency_{key}_at_{AIM_LATENCY_RATE:g}_per_s"] = _aim(
                target, base["latency"][key], higher=False
            )
            if not judged:
                aims[f"latency_{key}_at_{AIM_LATENCY_RATE:g}_per_s"]["met"] = None
    cpu = result.get("cpu")
    if cpu:
        aims["engine_cpu_per_lead_vs_bare"] = _aim(AIM_CPU_RATIO, cpu["ratio"], higher=False)
    budget = result.get("budget")
    if budget:
        aims["rate_budget_used"] = _aim(AIM_BUDGET_USED, budget["used"], higher=True)
        aims["rate_budget_429s"] = _aim(0, budget["rate_limited_total"], higher=False)
    memory = result.get("memory")
    if memory:
        aims["up_peak_rss_mb"] = _aim(AIM_PEAK_RSS_MB, memory["peak_rss_mb"], higher=False)
    return aims


def _cell(value: object) -> str:
    # Milliseconds to a tenth at most: a column of "2275.39" values runs its cells together.
    if isinstance(value, float):
        return f"{value:.1f}" if abs(value) < 100 else f"{value:.0f}"
    return "-" if value is None else str(value)


def _intake(result: dict[str, Any]) -> list[str]:
    lines = ["webhook intake (closed loop, one lead per delivery, no worker running):"]
    head = (
        f"{'backend':<10}{'clients':>8}{'leads':>7}{'leads/s':>9}{'p50 ms':>8}{'p99 ms':>8}"
        f"{'errors':>7}{'cpu ms/lead':>12}{'1-core est':>11}{'recv cpu':>9}{'pg cpu':>7}"
        f"{'other':>7}{'busy0':>6}  recorded"
    )
    lines += [head, "-" * len(head)]
    for backend, entry in result["intake"].items():
        for run in entry["runs"]:
            cores = run["cpu_cores"]
            lines.append(
                f"{backend:<10}{run['connections']:>8}{run['leads']:>7}{run['leads_per_s']:>9}"
                f"{_cell(run['p50_ms']):>8}{_cell(run['p99_ms']):>8}{run['errors']:>7}"
                f"{run['receiver_cpu_ms_per_lead']:>12}"
                f"{_cell(run['one_core_leads_per_s_estimate']):>11}{cores['receiver']:>9}"
                f"{_cell(cores['postgres']):>7}{cores['other']:>7}"
                f"{_cell(run.get('busy_cores_before')):>6}  "
                f"{entry['recorded']['run_rows']}/{entry['sent']} runs, "
                f"{entry['recorded']['workflows']} workflows"
            )
    return lines


def _latency(result: dict[str, Any]) -> list[str]:
    lines = ["lead-to-CRM latency (open loop; send → finished_at), by worker setting:"]
    head = (
        f"{'setting':<26}{'rate':>5}{'leads':>6}{'p50':>7}{'p90':>7}{'p99':>7}{'max':>7}"
        f"{'pickup p50/p99':>16}{'calls p50/p99':>15}{'worker ms/lead':>16}{'other':>7}"
    )
    lines += [head, "-" * len(head)]
    for run in result["latency"]["runs"]:
        lat, pick, calls = run["latency"], run["pickup"], run["calls"]
        lines.append(
            f"{run['setting']:<26}{run['rate']:>5g}{run['leads']:>6}{_cell(lat['p50_ms']):>7}"
            f"{_cell(lat['p90_ms']):>7}{_cell(lat['p99_ms']):>7}{_cell(lat['max_ms']):>7}"
            f"{_cell(pick['p50_ms']) + '/' + _cell(pick['p99_ms']):>16}"
            f"{_cell(calls['p50_ms']) + '/' + _cell(calls['p99_ms']):>15}"
            f"{run['cpu_ms_per_lead']['worker']:>16}{run['cpu_cores']['other']:>7}"
        )
    return lines


def _cpu(result: dict[str, Any]) -> list[str]:
    cpu = result["cpu"]
    engine, bare, floor = cpu["engine"], cpu["bare"], cpu["dbos_floor"]
    return [
        "CPU per lead (four CRM calls):",
        f"  worker (drain of {engine['leads']} leads): {engine['cpu_ms_per_lead']} ms "
        f"({engine['cpu_ms_per_lead_above_idle']} above its idle {engine['idle_cpu_cores']} core)"
        f", {engine['leads_per_s']} leads/s",
        f"  bare httpx script ({bare['leads']} leads): {bare['cpu_ms_per_lead']} ms, "
        f"{bare['leads_per_s']} leads/s",
        f"  ratio: {cpu['ratio']} (above idle: {cpu['ratio_above_idle']})",
        f"  DBOS alone, an empty workflow: {floor['steps_0']['cpu_ms_per_workflow']} ms; with one"
        f" empty step: {floor['steps_1']['cpu_ms_per_workflow']} ms"
        f" ({cpu['floor_one_step_vs_bare']}x the bare script)",
    ]


def _budget(result: dict[str, Any]) -> list[str]:
    b = result["budget"]
    alone = b["without_bulk_tags"]
    return [
        f"rate budget ({b['burst']} per {b['interval_s']:g} s, backlog of {b['backlog_leads']} "
        f"leads, {b['backlog_left_at_end']} still waiting at the end):",
        f"  {b['calls_ok']} of {b['allowed']} calls allowed in {b['window_s']:g} s used "
        f"({_cell(b['used'])}); 429s: {b['rate_limited_total']}; per interval: "
        f"{b['per_interval']}",
        f"  leads done per 100 calls allowed: {b['leads_done_per_100_calls_allowed']} "
        f"({b['bulk_requests']} bulk tag updates); without bulk tag updates: "
        f"{alone['leads_done_per_100_calls_allowed']} (used {_cell(alone['used'])}, 429s: "
        f"{alone['rate_limited_total']})",
    ]


def _memory(result: dict[str, Any]) -> list[str]:
    m = result["memory"]
    demo = m["demo"]
    return [
        f"leadwire up under `leadwire demo --count {m['count']} --rate {m['rate']:g}`:",
        f"  RSS idle {m['rss_idle_mb']} MB, peak {m['peak_rss_mb']} MB; CPU "
        f"{m['up_cpu_ms_per_lead']} ms per lead (three flows); demo latency p50 "
        f"{_cell(demo.get('p50_ms'))} ms, p99 {_cell(demo.get('p99_ms'))} ms; "
        f"demo exit code {m['demo_exit_code']}",
    ]


def table(result: dict[str, Any]) -> str:
    """Return the result as text: one block per measurement, then the aims."""
    lines: list[str] = []
    for key, render in (
        ("intake", _intake),
        ("latency", _latency),
        ("cpu", _cpu),
        ("budget", _budget),
        ("memory", _memory),
    ):
        if result.get(key):
            lines += [*render(result), ""]
    for name, aim in result["aims"].items():
        verdict = {True: "met", False: "MISSED", None: "not judged"}[aim["met"]]
        lines.append(
            f"aim {name:<34} target {aim['target']:<8} got {_cell(aim['value']):<9} {verdict}"
        )
    return "\n".join(lines)
