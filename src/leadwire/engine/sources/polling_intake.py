"""Polled leads into the engine: routed to live flows, then accepted durably, in batches.

A lead a flow has already run — in this version or an older one — starts nothing: a poll's
window overlaps the last one, so most leads it reads were taken already (by the last poll or
by the webhook), and republishing a flow must not run them again. Re-running a lead through a
newer version is a deliberate act (replay), not a side effect of polling. Intake decides it,
in the batch's own transaction (`LeadIn.once_per_flow`), so a webhook landing in between is
covered too.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.runtime import LeadIn, LeadIntake
from leadwire.engine.sources.routing import FlowRoutes, RoutingError


@dataclass(frozen=True, slots=True)
class TakeResult:
    """What became of a set of polled leads."""

    leads: int
    accepted: int
    duplicates: int
    unmatched: int
    # Leads a flow they trigger cannot run (no CRM connection...): not taken, and why.
    unroutable: int = 0
    problem: str | None = None


def take_leads(
    leads: Sequence[Lead],
    *,
    connection_id: str,
    routes: FlowRoutes,
    intake: LeadIntake,
    batch_size: int,
) -> TakeResult:
    """Route `leads`, drop runs already made, accept the rest `batch_size` per transaction.

    Returns only after every batch is committed. A lead that cannot be routed is left out
    (the others still go in) and counted, with the first problem in words.
    """
    runs: list[LeadIn] = []
    unmatched = 0
    problems: list[str] = []
    for lead in leads:
        try:
            lead_runs = routes.runs_for(lead, connection_id)
        except RoutingError as exc:
            problems.append(f"lead {lead.lead_id}: {exc}")
            continue
        unmatched += not lead_runs
        runs.extend(lead_runs)
    accepted = duplicates = 0
    for i in range(0, len(runs), batch_size):
        report = intake.accept_leads(runs[i : i + batch_size])
        accepted += len(report.accepted)
        duplicates += len(report.duplicates)
    problem = None
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        problem = f"{len(problems)} lead(s) could not be routed: {problems[0]}{more}"
    return TakeResult(len(leads), accepted, duplicates, unmatched, len(problems), problem)
