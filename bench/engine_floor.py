"""DBOS's own CPU per workflow: the floor under any engine that runs each lead as a workflow.

    .venv/bin/python -m bench.engine_floor [--workflows N] [--steps 0,1,2] [--json FILE]

The runtime is launched in this process exactly as a worker launches it (`Runtime.launch`: the
same engine, SQLite settings, queue and polling), but the workflows drained are empty ones of
this module, with 0, 1 or 2 empty checkpointed steps and no journal: what is left is DBOS's
dequeue, start, step checkpoints and outcome. They are enqueued DELAYED, so the drain starts
after the enqueuing is done and this process's CPU over the drain is DBOS's alone (plus its
polling, which runs anyway, and a cheap count every 0.1 s on a plain sqlite3 connection).

`bench.engine --only cpu` runs this beside the engine and the bare script, on the same machine
in the same minute: the engine's CPU per lead cannot go below its one step's floor plus the
calls it makes.
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from dbos import DBOS

from bench.engine_intake import NoIo
from leadwire.engine.runtime import RuntimeOptions
from leadwire.engine.runtime.runtime import Runtime
from leadwire.engine.runtime.system_db import migrate_system_tables
from leadwire.engine.runtime.throttle import RateBudget

FLOOR_WORKFLOW = "bench.floor"
# Enqueued DELAYED by this much, plus a few milliseconds a workflow: the drain starts after
# the last one is enqueued (checked), so enqueuing is not measured.
_DELAY_S = 2.0
_DELAY_PER_WORKFLOW_S = 0.004


def _empty() -> None:
    return None


@DBOS.workflow(name=FLOOR_WORKFLOW)
def floor_workflow(steps: int) -> int:
    """A workflow that does nothing but checkpoint `steps` empty steps."""
    for _ in range(steps):
        DBOS.run_step({"name": "empty"}, _empty)
    return steps


def _succeeded(db: sqlite3.Connection) -> int:
    # A bare count on its own connection: the wait's cost stays out of the measurement.
    found = db.execute("SELECT count(*) FROM workflow_status WHERE status = 'SUCCESS'")
    return int(found.fetchone()[0])


def measure(workflows: int, steps: int) -> dict[str, Any]:
    """Drain `workflows` empty workflows of `steps` steps each on a fresh SQLite database."""
    with tempfile.TemporaryDirectory(prefix="leadwire-floor-") as folder:
        path = Path(folder) / "floor.db"
        url = f"sqlite:///{path}"
        migrate_system_tables(url)
        options = RuntimeOptions(database_url=url, budget=RateBudget(burst=1_000_000))
        # The runtime needs an executor; the floor's workflows never ask it anything.
        runtime = Runtime.launch(options, NoIo())
        db = sqlite3.connect(path)
        delay = _DELAY_S + _DELAY_PER_WORKFLOW_S * workflows
        due = time.monotonic() + delay
        try:
            for n in range(workflows):
                runtime.intake.client.enqueue(
                    {
                        "workflow_name": FLOOR_WORKFLOW,
                        "queue_name": options.queue_name,
                        "workflow_id": f"floor-{n}",
                        "queue_partition_key": "location",
                        "delay_seconds": delay,
                    },
                    steps,
                )
            if time.monotonic() >= due or _succeeded(db):
                raise RuntimeError("enqueuing took longer than the delay: raise _DELAY_S")
            # DBOS's idle polling until they are due is not counted either.
            time.sleep(max(0.0, due - time.monotonic()))
            cpu, start = time.process_time(), time.perf_counter()
            while _succeeded(db) < workflows:
                time.sleep(0.1)
            elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
        finally:
            db.close()
            runtime.shutdown()
    return {
        "steps": steps,
        "workflows": workflows,
        "workflows_per_s": round(workflows / elapsed, 1),
        "cpu_ms_per_workflow": round(1000 * cpu / workflows, 2),
    }


def run(workflows: int, steps: Sequence[int]) -> list[dict[str, Any]]:
    """Measure each step count in turn (each on its own database)."""
    return [measure(workflows, n) for n in steps]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workflows", type=int, default=1000)
    parser.add_argument("--steps", default="0,1,2", help="comma-separated step counts")
    parser.add_argument("--json", type=Path, help="write the result here ('-': stdout only)")
    args = parser.parse_args(argv)
    found = run(args.workflows, [int(s) for s in args.steps.split(",")])
    if args.json is not None and str(args.json) == "-":
        print(json.dumps(found))
        return 0
    for row in found:
        print(
            f"DBOS workflow with {row['steps']} empty step(s): {row['cpu_ms_per_workflow']} ms "
            f"CPU each, {row['workflows_per_s']}/s"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(found, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
