"""The intake bench runs end to end and reports every configuration (numbers are not judged)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_the_intake_bench_measures_every_configuration(tmp_path: Path) -> None:
    out = tmp_path / "intake.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench.engine_intake", "--smoke", "--json", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert {(r["synchronous"], r["batch"]) for r in result["batches"]} == {
        (level, batch) for level in ("FULL", "NORMAL") for batch in (1, 10, 100)
    }
    assert [r["synchronous"] for r in result["group_commit"]] == ["FULL", "NORMAL"]
    for row in result["batches"] + result["group_commit"]:
        assert row["leads_per_s"] > 0
        assert row["cpu_ms_per_lead"] > 0
    assert result["group_commit"][0]["leads_per_commit"] >= 1
    assert "leads/s" in done.stdout
