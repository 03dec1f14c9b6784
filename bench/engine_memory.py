"""Peak memory of `leadwire up` (CRM, sandbox, receiver and worker in one process) under load.

`leadwire up` runs on a fresh data folder with its own defaults (it provisions the demo: three
published templates, the sandbox subscribed to the receiver). `leadwire demo --count N --rate
R` then submits leads to the sandbox at a steady rate — the real path: sandbox → encrypted
webhook → receiver → runs → embedded CRM — and reports what landed and its lead-to-CRM
latency. The bench samples `up`'s resident memory (`VmRSS`) twice a second and reads its
high-water mark (`VmHWM`) at the end.
"""

from __future__ import annotations

import re
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

from bench.engine_stack import Folder, Process, log_ready, world_values
from bench.server import leadwire_command, process_stats


def up_folder(root: Path) -> Folder:
    """Return the settings of a fresh `leadwire up` in `root` (it provisions itself)."""
    return Folder(root, world_values(root, database_url=None))


def up_process(folder: Folder) -> Process:
    """`leadwire up`, ready once it printed how to send leads."""
    return Process("up", ["up"], folder.env(), folder.root, log_ready("send leads:"))


class RssSampler(threading.Thread):
    """Samples a process's resident memory until stopped."""

    def __init__(self, pid: int, every_s: float = 0.5) -> None:
        super().__init__(name="rss-sampler", daemon=True)
        self.pid = pid
        self.every_s = every_s
        self.samples: list[tuple[float, float]] = []
        self._done = threading.Event()

    def run(self) -> None:
        """Sample until `stop`."""
        start = time.monotonic()
        while not self._done.wait(self.every_s):
            try:
                rss = process_stats(self.pid)["rss_mb"]
            except (FileNotFoundError, ProcessLookupError):
                return
            self.samples.append((round(time.monotonic() - start, 1), rss))

    def stop(self) -> None:
        """Stop sampling and wait for the thread."""
        self._done.set()
        self.join(5)


_LATENCY = re.compile(r"lead-to-CRM latency (p50|p99)\s*[│|]\s*([\d.]+) ms")
_ROW = re.compile(r"^\s*[│|]?\s*(.+?)\s*[│|]\s*(.+?)\s*[│|]?\s*$")


def parse_demo(output: str) -> dict[str, Any]:
    """Return the demo table's rows (what → count) and its latencies."""
    rows: dict[str, str] = {}
    for line in output.splitlines():
        match = _ROW.match(line)
        if match and not set(match.group(1)) <= set("─━┃┏┓┗┛┡┩└┘├┤┬┴┼ "):
            rows[match.group(1).strip()] = match.group(2).strip()
    latency = {f"{k}_ms": float(v) for k, v in _LATENCY.findall(output)}
    return {"rows": rows, **latency}


def measure(
    folder: Folder, up: Process, *, count: int, rate: float, timeout_s: float = 600.0
) -> dict[str, Any]:
    """Run the demo against a ready `up`; return its memory over time and what landed."""
    idle = process_stats(up.pid)
    sampler = RssSampler(up.pid)
    sampler.start()
    wall0 = time.perf_counter()
    try:
        done = subprocess.run(
            [leadwire_command(), "demo", "--count", str(count), "--rate", str(rate), "--seed", "1"],
            cwd=folder.root,
            env={**folder.env(), "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    finally:
        sampler.stop()
    wall = time.perf_counter() - wall0
    final = process_stats(up.pid)
    samples = sampler.samples
    return {
        "count": count,
        "rate": rate,
        "demo_exit_code": done.returncode,
        "demo": parse_demo(done.stdout),
        "demo_output_tail": done.stdout[-2500:] if done.returncode else "",
        "demo_errors": done.stderr[-2000:] if done.returncode else "",
        "wall_s": round(wall, 1),
        "rss_idle_mb": idle["rss_mb"],
        "rss_max_sampled_mb": max((rss for _, rss in samples), default=None),
        "rss_end_mb": final["rss_mb"],
        "peak_rss_mb": final["peak_rss_mb"],
        "threads": final["threads"],
        "up_cpu_s": round(final["cpu_s"] - idle["cpu_s"], 2),
        "up_cpu_ms_per_lead": round(1000 * (final["cpu_s"] - idle["cpu_s"]) / count, 1),
        "rss_timeline_mb": samples[:: max(1, len(samples) // 60)],
    }
