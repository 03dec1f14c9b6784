"""The intake bench runs end to end and reports every configuration (numbers are not judged)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.test_bench_smoke import run_bench


@pytest.mark.slow
def test_the_intake_bench_measures_every_configuration(tmp_path: Path) -> None:
    result, printed = run_bench(tmp_path, "bench.engine_intake", "--smoke", timeout=300)
    assert {(r["synchronous"], r["batch"]) for r in result["batches"]} == {
        (level, batch) for level in ("FULL", "NORMAL") for batch in (1, 10, 100)
    }
    assert [r["synchronous"] for r in result["group_commit"]] == ["FULL", "NORMAL"]
    for row in result["batches"] + result["group_commit"]:
        assert row["leads_per_s"] > 0
        assert row["cpu_ms_per_lead"] > 0
    assert result["group_commit"][0]["leads_per_commit"] >= 1
    assert "leads/s" in printed
