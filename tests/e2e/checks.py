"""What "nothing lost, nothing twice" means, checked in the engine's tables and the CRM's.

- Accounted for: each lead has one run per live flow, and every run ended — succeeded, or in
  the needs-attention inbox with a reason. Read from `lw_runs` and `lw_inbox`.
- Exactly once: the lead's e-mail and phone find one contact, the one every run of the lead
  wrote to; it holds one task and one note (the follow-up flow's) and its tags. Read from the
  embedded CRM's own tables (the engine may still be spending the location's API budget).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import pytest
from sqlalchemy import bindparam, func, select, text

from leadwire.crm.models import Contact, ContactTag, Note, Task
from leadwire.sandbox.models import Delivery
from leadwire.store.models.runs import (
    InboxRow,
    InboxStatus,
    RunRow,
    RunStatus,
    RunStepRow,
    StepStatus,
)
from tests.e2e.leads import Person, Sent
from tests.e2e.stack import Stack

ENDED = frozenset({RunStatus.SUCCEEDED.value, RunStatus.NEEDS_ATTENTION.value})
# The tag the tags template gives every lead (its initial stage is checked on its own, in
# test_faults.test_every_new_lead_gets_its_initial_stage).
EXPECTED_TAGS = frozenset({"pinterest-lead"})
STAGE_TAG = "stage:lead"


def runs_by_lead(stack: Stack, lead_ids: Sequence[str]) -> dict[str, list[RunRow]]:
    """Return the runs of each lead (an empty list for a lead with none)."""
    found: dict[str, list[RunRow]] = {lead_id: [] for lead_id in lead_ids}
    with stack.app_store.read_sessions() as session:
        for run in session.scalars(select(RunRow).where(RunRow.lead_id.in_(lead_ids))):
            found[run.lead_id].append(run)
    return found


def status_summary(runs: dict[str, list[RunRow]]) -> str:
    """Return how many runs are in each status, and how many leads lack runs."""
    statuses = Counter(run.status for lead_runs in runs.values() for run in lead_runs)
    missing = sum(1 for lead_runs in runs.values() if not lead_runs)
    return f"runs by status {dict(statuses)}; leads without runs: {missing}"


def wait_until_ended(stack: Stack, sent: Sequence[Sent], timeout_s: float = 150.0) -> None:
    """Wait until every lead's runs (one per live flow) ended; fail saying where they stand."""
    lead_ids = [s.lead_id for s in sent]
    deadline = time.monotonic() + timeout_s
    while True:
        runs = runs_by_lead(stack, lead_ids)
        if all(
            len(lead_runs) >= stack.flows and all(r.status in ENDED for r in lead_runs)
            for lead_runs in runs.values()
        ):
            return
        if time.monotonic() > deadline:
            pytest.fail(f"leads not done within {timeout_s} s: {status_summary(runs)}")
        time.sleep(0.25)


def wait_until(predicate: Callable[[], object], timeout_s: float, what: str) -> None:
    """Poll `predicate` until it is true; fail naming `what` after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {timeout_s} s")
        time.sleep(0.05)


def assert_accounted_for(stack: Stack, sent: Sequence[Sent]) -> None:
    """Assert each lead has one ended run per live flow; a run in the inbox must say why.

    The faults of this suite all pass, so every run must have succeeded: an inbox item here
    is reported with its reason, as a failure.
    """
    runs = runs_by_lead(stack, [s.lead_id for s in sent])
    with stack.app_store.read_sessions() as session:
        inbox = {
            row.run_id: row
            for row in session.scalars(
                select(InboxRow).where(InboxRow.lead_id.in_([s.lead_id for s in sent]))
            )
        }
    problems: list[str] = []
    for lead in sent:
        lead_runs = runs[lead.lead_id]
        if len(lead_runs) != stack.flows:
            problems.append(f"lead {lead.lead_id}: {len(lead_runs)} run(s), not {stack.flows}")
        for run in lead_runs:
            if run.status == RunStatus.SUCCEEDED.value:
                continue
            item = inbox.get(run.run_id)
            assert run.status != RunStatus.NEEDS_ATTENTION.value or (
                item is not None and item.status == InboxStatus.OPEN.value and item.error_message
            ), f"run {run.run_id} needs attention without an open inbox item and a reason"
            problems.append(
                f"run {run.run_id}: {run.status} ({run.error_type}: {run.error_message})"
            )
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])


@dataclass(frozen=True)
class Landed:
    """What the CRM holds for one person."""

    by_email: tuple[str, ...]
    by_phone: tuple[str, ...]
    # The e-mail and phone each found contact holds.
    contacts: tuple[tuple[str | None, str | None], ...]
    tasks: int
    notes: int
    tags: frozenset[str]


def landed(stack: Stack, person: Person) -> Landed:
    """Return the contacts that person's e-mail and phone find, and what hangs off them."""
    location = stack.demo.location_id
    with stack.crm.read_sessions() as session:
        in_location = select(Contact.id).where(Contact.location_id == location)
        by_email = session.scalars(in_location.where(Contact.email_lower == person.email)).all()
        by_phone = (
            session.scalars(in_location.where(Contact.phone == person.e164)).all()
            if person.e164
            else []
        )
        ids = sorted(set(by_email) | set(by_phone))

        def count(model: type[Task] | type[Note]) -> int:
            query = select(func.count()).select_from(model).where(model.contact_id.in_(ids))
            return int(session.scalar(query) or 0)

        tags = session.scalars(select(ContactTag.tag).where(ContactTag.contact_id.in_(ids))).all()
        contacts = session.execute(
            select(Contact.email, Contact.phone).where(Contact.id.in_(ids)).order_by(Contact.id)
        ).all()
        return Landed(
            by_email=tuple(by_email),
            by_phone=tuple(by_phone),
            contacts=tuple((email, phone) for email, phone in contacts),
            tasks=count(Task),
            notes=count(Note),
            tags=frozenset(tags),
        )


def assert_exactly_once(stack: Stack, sent: Sequence[Sent]) -> None:
    """Assert each lead is one contact, the one its runs wrote to, with one task and one note."""
    runs = runs_by_lead(stack, [s.lead_id for s in sent])
    problems: list[str] = []
    for lead in sent:
        found = landed(stack, lead.person)
        written = {str(r.crm_ids.get("contact")) for r in runs[lead.lead_id]}
        if len(found.by_email) != 1 or found.by_phone != found.by_email:
            problems.append(
                f"lead {lead.lead_id}: contacts by e-mail {found.by_email}, "
                f"by phone {found.by_phone}"
            )
        elif written != set(found.by_email):
            problems.append(f"lead {lead.lead_id}: runs wrote to {written}, CRM has {found}")
        if (found.tasks, found.notes) != (1, 1):
            problems.append(f"lead {lead.lead_id}: {found.tasks} task(s), {found.notes} note(s)")
        if not found.tags >= EXPECTED_TAGS:
            problems.append(f"lead {lead.lead_id}: tags {sorted(found.tags)}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:20])


def plan_summary(stack: Stack, run_id: str) -> str:
    """Return the summary of a run's first step (`plan`): what was planned and left out."""
    with stack.app_store.read_sessions() as session:
        step = session.scalars(
            select(RunStepRow).where(RunStepRow.run_id == run_id, RunStepRow.step_id == "plan")
        ).first()
    assert step is not None, f"run {run_id} has no plan step"
    return step.summary


def succeeded_runs(stack: Stack, sent: Sequence[Sent]) -> int:
    """Count the runs of these leads that succeeded so far."""
    with stack.app_store.read_sessions() as session:
        query = (
            select(func.count())
            .select_from(RunRow)
            .where(
                RunRow.lead_id.in_([s.lead_id for s in sent]),
                RunRow.status == RunStatus.SUCCEEDED.value,
            )
        )
        return int(session.scalar(query) or 0)


def tag_steps(stack: Stack, sent: Sequence[Sent]) -> int:
    """Count the add-tags calls the runs of these leads made, as their timelines show them."""
    with stack.app_store.read_sessions() as session:
        runs = select(RunRow.run_id).where(RunRow.lead_id.in_([s.lead_id for s in sent]))
        query = (
            select(func.count())
            .select_from(RunStepRow)
            .where(
                RunStepRow.run_id.in_(runs),
                RunStepRow.status == StepStatus.OK.value,
                RunStepRow.summary.startswith("add-tags "),
            )
        )
        return int(session.scalar(query) or 0)


def deliveries(stack: Stack, sent: Sequence[Sent]) -> dict[str, list[tuple[str, int]]]:
    """Return each lead's webhook deliveries in the sandbox: (status, attempts) per delivery."""
    found: dict[str, list[tuple[str, int]]] = {s.lead_id: [] for s in sent}
    with stack.sandbox.read_sessions() as session:
        rows = session.execute(
            select(Delivery.lead_id, Delivery.status, Delivery.attempts).where(
                Delivery.lead_id.in_(list(found))
            )
        ).all()
    for lead_id, status, attempts in rows:
        found[lead_id].append((status, attempts))
    return found


def all_delivered(stack: Stack, sent: Sequence[Sent]) -> bool:
    """Say whether the sandbox delivered every delivery of these leads (the receiver said 200)."""
    found = deliveries(stack, sent)
    return all(
        len(found[lead.lead_id]) == len(lead.subscriptions)
        and all(status == "delivered" for status, _ in found[lead.lead_id])
        for lead in sent
    )


def executors(stack: Stack, sent: Sequence[Sent]) -> set[str]:
    """Return the workers (DBOS executor ids) that ran the latest segment of these leads' runs."""
    runs = runs_by_lead(stack, [s.lead_id for s in sent])
    workflow_ids = [run.workflow_id for lead_runs in runs.values() for run in lead_runs]
    table = "dbos.workflow_status" if stack.backend == "postgres" else "workflow_status"
    query = text(
        f"SELECT DISTINCT executor_id FROM {table} WHERE workflow_uuid IN :ids"  # noqa: S608
    ).bindparams(bindparam("ids", expanding=True))
    with stack.app_store.engine.connect() as conn:
        return {str(row[0]) for row in conn.execute(query, {"ids": workflow_ids})}
