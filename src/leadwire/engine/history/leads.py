"""The lead a run carries, as the receiver decoded it: read from its workflow's input.

The lead's answers are personal data, so the engine keeps them once — in the durable input of
the run's first workflow (what every segment and replay starts from) — and the timeline tables
hold none. This reads them back for a person looking at one run; it is gone when the run is
pruned.
"""

from __future__ import annotations

import logging
from typing import Any

from dbos import DBOSClient

log = logging.getLogger(__name__)


def read_run_lead(client: DBOSClient, run_id: str) -> dict[str, Any] | None:
    """Return the lead of run `run_id` (lead-file format), or None if its input is gone."""
    statuses = client.list_workflows(workflow_ids=[run_id], load_output=False)
    if not statuses:
        return None
    inputs = statuses[0].input
    try:
        job = inputs["args"][0] if inputs is not None else None
        lead = job["payload"]["lead"] if isinstance(job, dict) else None
    except (KeyError, IndexError, TypeError):
        lead = None
    if not isinstance(lead, dict):
        log.debug("history.lead_missing run=%s", run_id)
        return None
    return lead
