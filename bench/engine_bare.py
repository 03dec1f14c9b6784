"""The baseline for the engine's CPU per lead: a bare httpx script making the same CRM calls.

    BENCH_CRM_TOKEN=... .venv/bin/python -m bench.engine_bare CALLS.json --base-url URL

CALLS.json holds, per lead, the calls the engine's planner makes for it with the bench flow
(upsert, tags, task, note: method, path with `{contact_id}`, body, idempotency key). This
script makes them one after the other on one keep-alive `httpx.Client`, reads every answer's
JSON (the upsert's gives the contact id the next three calls need), and prints its own CPU
time for the loop alone (imports and the file excluded) as JSON on stdout. No retries, no
checkpoints, no records: what any script doing the job would at least spend. The API key
comes from the environment (`BENCH_CRM_TOKEN`), never the command line.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

import httpx

CONTACT_ID = "{contact_id}"
VERSION = "2021-07-28"


def _cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(leads: list[list[dict[str, Any]]], base_url: str, token: str) -> dict[str, Any]:
    """Make every lead's calls in order; return the counts and the loop's CPU and wall time."""
    headers = {"Authorization": f"Bearer {token}", "Version": VERSION, "Accept": "application/json"}
    calls = 0
    with httpx.Client(base_url=base_url, headers=headers, timeout=30.0) as http:
        cpu0, wall0 = _cpu_s(), time.perf_counter()
        for lead in leads:
            contact_id = ""
            for call in lead:
                response = http.request(
                    call["method"],
                    call["path"].replace(CONTACT_ID, contact_id),
                    json=call["body"],
                    headers={"Idempotency-Key": call["idempotency_key"]},
                )
                response.raise_for_status()
                data = response.json()
                calls += 1
                if call.get("gives_contact_id"):
                    contact_id = str(data["contact"]["id"])
        cpu, wall = _cpu_s() - cpu0, time.perf_counter() - wall0
    return {
        "leads": len(leads),
        "calls": calls,
        "cpu_s": round(cpu, 4),
        "wall_s": round(wall, 3),
        "cpu_ms_per_lead": round(1000 * cpu / max(1, len(leads)), 3),
        "leads_per_s": round(len(leads) / wall, 1) if wall > 0 else None,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the calls in CALLS.json; print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("calls", type=Path)
    parser.add_argument("--base-url", required=True)
    args = parser.parse_args(argv)
    leads = json.loads(args.calls.read_text())
    print(json.dumps(run(leads, args.base_url, os.environ["BENCH_CRM_TOKEN"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
