"""`leadwire runs`: find runs by lead id, e-mail, status or flow; show a lead's timeline.

A run is one lead going through one version of one flow. `list` shows the newest first (a page
at a time: `--cursor` continues); `show` prints the run's timeline — received, the lead as
decoded, each step with its summary, outputs, CRM ids, error, attempts and duration, and its
inbox item if it needs a person. `--json` prints what the JSON API answers.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from leadwire.engine.flows import FlowNotFoundError
from leadwire.engine.flows import store as flow_store
from leadwire.engine.history import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    CursorError,
    RunFilter,
    Timeline,
    load_timeline,
    read_run_lead,
    search_runs,
)
from leadwire.engine.runtime import LeadIntake, RuntimeOptions
from leadwire.settings import Settings
from leadwire.store.app import open_app_store
from leadwire.store.models.runs import RunStatus
from leadwire.web.wire import to_json

app = typer.Typer(
    help="Runs (one per lead and flow version): search them, show a lead's timeline.",
    no_args_is_help=True,
)
log = logging.getLogger(__name__)

_STATUS_STYLE = {
    RunStatus.SUCCEEDED: "green",
    RunStatus.NEEDS_ATTENTION: "red",
    RunStatus.RETRYING: "yellow",
    RunStatus.WAITING: "cyan",
    RunStatus.DISMISSED: "dim",
}


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


@contextmanager
def _read(ctx: typer.Context) -> Iterator[Session]:
    settings: Settings = ctx.obj
    store = open_app_store(settings)
    try:
        with store.read_sessions() as session:
            yield session
    finally:
        store.engine.dispose()


def flow_id_of(session: Session, ref: str) -> str:
    """Return the id of the flow named or identified by `ref` (a removed flow's id as given)."""
    try:
        return flow_store.find_flow(session, ref).id
    except FlowNotFoundError:
        return ref


def _when(moment: datetime | None) -> str:
    return "" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _status(status: RunStatus) -> Text:
    return Text(status.value, style=_STATUS_STYLE.get(status, ""))


def _row(*cells: str | Text) -> list[Text]:
    # Text, not str: data (summaries, errors, answers) must never be read as Rich markup.
    return [cell if isinstance(cell, Text) else Text(cell) for cell in cells]


@app.command("list")
def list_runs(
    ctx: typer.Context,
    lead_id: Annotated[str | None, typer.Option(help="Runs of this Pinterest lead id.")] = None,
    email: Annotated[str | None, typer.Option(help="Runs of leads with this e-mail.")] = None,
    status: Annotated[RunStatus | None, typer.Option(help="Runs in this status.")] = None,
    flow: Annotated[str | None, typer.Option(help="Runs of this flow (id or name).")] = None,
    limit: Annotated[
        int, typer.Option(min=1, max=MAX_LIMIT, help="Runs per page.")
    ] = DEFAULT_LIMIT,
    cursor: Annotated[
        str | None, typer.Option(help="Continue a listing (printed under the last page).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the API.")] = False,
) -> None:
    """List runs, newest first, matching every filter given."""
    with _read(ctx) as session:
        flow_id = None if flow is None else flow_id_of(session, flow)
        wanted = RunFilter(
            lead_id=lead_id, email=email, status=status, flow_id=flow_id, limit=limit, cursor=cursor
        )
        try:
            page = search_runs(session, wanted)
        except CursorError as exc:
            raise typer.BadParameter(str(exc), param_hint="--cursor") from None
    if as_json:
        typer.echo(to_json(page))
        return
    console = _console()
    table = Table()
    for header in ("received", "run", "lead", "e-mail", "status", "tries", "error"):
        table.add_column(header, overflow="fold")  # ids in full, even on a narrow terminal
    for run in page.runs:
        error = "" if run.error_type is None else f"{run.error_type}: {run.error_message or ''}"
        table.add_row(
            *_row(
                _when(run.received_at),
                run.run_id,
                run.lead_id,
                run.email or "",
                _status(run.status),
                str(run.attempts),
                error,
            )
        )
    console.print(table)
    if not page.runs:
        console.print("no runs match")
    if page.next_cursor is not None:
        console.print(f"more: add --cursor {page.next_cursor}", markup=False)


@app.command()
def show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run id (see `leadwire runs list`).")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the API.")] = False,
) -> None:
    """Show a run's timeline: received, the lead, each step, and its inbox item."""
    with _read(ctx) as session:
        timeline = load_timeline(session, run_id)
    if timeline is None:
        _fail(f"no run {run_id!r}")
        return
    timeline = replace(timeline, lead=_lead(ctx.obj, run_id))
    if as_json:
        typer.echo(to_json(timeline))
        return
    _print_timeline(timeline)


def _lead(settings: Settings, run_id: str) -> dict[str, Any] | None:
    intake = LeadIntake.open(RuntimeOptions.from_settings(settings), migrate=False)
    try:
        return read_run_lead(intake.client, run_id)
    except SQLAlchemyError as exc:
        log.warning("runs.lead_unreadable run=%s reason=%s", run_id, type(exc).__name__)
        return None
    finally:
        intake.close()


def _print_timeline(timeline: Timeline) -> None:
    console = _console()
    run = timeline.run
    console.print(f"run        {run.run_id}", markup=False)
    console.print(f"lead       {run.lead_id}  {run.email or ''}", markup=False)
    console.print(f"flow       {run.flow_id} version {run.flow_version}", markup=False)
    console.print(f"location   {run.location_id}", markup=False)
    console.print(
        Text("status     ").append(_status(run.status)).append(f" after {run.attempts} segment(s)")
    )
    if run.crm_ids:
        ids = ", ".join(f"{k}={v}" for k, v in sorted(run.crm_ids.items()))
        console.print(f"CRM ids    {ids}", markup=False)
    if run.next_attempt_at is not None:
        console.print(f"next try   {_when(run.next_attempt_at)}", markup=False)
    if timeline.lead is not None:
        _print_lead(console, timeline.lead)
    table = Table(title="timeline")
    for header in ("at", "+ms", "step", "status", "what", "tries", "ms", "result"):
        table.add_column(header, overflow="fold")
    table.add_row(*_row(_when(run.received_at), "0", "", "received", "lead recorded"))
    for step in timeline.steps:
        offset = int((step.started_at - run.received_at).total_seconds() * 1000)
        result = ", ".join(f"{k}={v}" for k, v in {**step.outputs, **step.crm_ids}.items())
        if step.error_type is not None:
            result = f"{step.error_type}: {step.error_message or ''}"
        table.add_row(
            *_row(
                _when(step.started_at),
                str(offset),
                step.step_id,
                step.status.value,
                step.summary,
                str(step.attempts),
                str(step.duration_ms),
                result,
            )
        )
    if run.finished_at is not None:
        table.add_row(
            _when(run.finished_at),
            str(run.latency_ms),
            "",
            run.status.value,
            "run ended",
            "",
            "",
            "",
        )
    console.print(table)
    if timeline.inbox is not None:
        item = timeline.inbox
        console.print(
            f"inbox: {item.status.value} — {item.failed_step} failed after {item.attempts} "
            f"attempt(s): {item.error_type}: {item.error_message} (replays: {item.replays})",
            markup=False,
        )
        if item.status.value == "open":
            console.print(f"replay: leadwire inbox replay {run.run_id}", markup=False)


def _print_lead(console: Console, lead: dict[str, Any]) -> None:
    table = Table(title="lead as received")
    table.add_column("field or question", overflow="fold")
    table.add_column("value or answer", overflow="fold")
    for key in ("ad_account_id", "lead_form_id", "campaign_id", "ad_group_id", "ad_id"):
        if lead.get(key):
            table.add_row(*_row(key, str(lead[key])))
    for answer in lead.get("answers", []):
        label = answer.get("question_label") or answer.get("question_type", "")
        value = answer.get("answer")
        table.add_row(*_row(str(label), value if isinstance(value, str) else json.dumps(value)))
    console.print(table)
