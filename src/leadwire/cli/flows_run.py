"""`leadwire flows run FLOW --lead FILE` and `leadwire runs rerun RUN_ID`: runs a person starts.

`flows run` records a run of the flow's latest published version on a lead (the format of
`flows dry-run --lead-file`), whatever the flow's trigger; `runs rerun` records the input of an
existing run — its lead, CRM event or due time — through the flow's latest version (or
`--version N`). Both are durable like a delivered lead, and a worker runs them (`leadwire up`
or `leadwire worker`); `--wait S` waits up to S seconds for the run to end and says how.

Registered by `leadwire.cli.main`::

    flows.app.command("run")(flows_run.run)
    runs.app.command("rerun")(flows_run.rerun)
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from leadwire.engine.flows import FlowValidationError
from leadwire.engine.flows.loading import parse_data
from leadwire.engine.planning import read_lead
from leadwire.engine.runtime import LeadIntake, RuntimeOptions
from leadwire.engine.sources.manual import (
    RunRequestError,
    Started,
    start_manual_run,
    start_rerun,
)
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from leadwire.store.models.runs import RunRow, RunStatus

FINISHED = frozenset({RunStatus.SUCCEEDED, RunStatus.NEEDS_ATTENTION, RunStatus.DISMISSED})
WAIT_INTERVAL_S = 0.2

Wait = Annotated[
    float,
    typer.Option(min=0, help="Seconds to wait for the run to end (0: return once recorded)."),
]


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _read_lead_file(path: Path) -> object:
    try:
        return parse_data(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}", param_hint="--lead") from None
    except FlowValidationError as exc:
        raise typer.BadParameter(f"{path}: {exc}", param_hint="--lead") from None


def _report(store: AppStore, started: Started, wait_s: float) -> None:
    where = f"flow {started.flow_name!r} version {started.version}"
    if not started.is_new:
        _fail(
            f"run {started.run_id} exists already ({where} ran this before): see "
            f"`leadwire runs show {started.run_id}`; a failed run is retried with "
            f"`leadwire inbox replay {started.run_id}`"
        )
    typer.echo(f"recorded run {started.run_id} ({where})")
    if wait_s <= 0:
        typer.echo(
            "a worker runs it (`leadwire up` or `leadwire worker`): "
            f"leadwire runs show {started.run_id}"
        )
        return
    status = _wait(store, started.run_id, wait_s)
    if status is RunStatus.SUCCEEDED:
        typer.echo(f"run {started.run_id} succeeded")
        return
    if status in FINISHED:
        _fail(f"run {started.run_id} ended {status.value}: leadwire runs show {started.run_id}")
    _fail(
        f"run {started.run_id} is still {status.value} after {wait_s:g} s: is a worker running? "
        f"(leadwire runs show {started.run_id})"
    )


def _wait(store: AppStore, run_id: str, wait_s: float) -> RunStatus:
    deadline = time.monotonic() + wait_s
    while True:
        with store.read_sessions() as session:
            row = session.get(RunRow, run_id)
            status = RunStatus(row.status) if row is not None else RunStatus.QUEUED
        if status in FINISHED or time.monotonic() >= deadline:
            return status
        time.sleep(WAIT_INTERVAL_S)


def _start(
    settings: Settings, wait_s: float, start: Callable[[AppStore, LeadIntake], Started]
) -> None:
    """Open the store and intake, call `start(store, intake)`, report what it recorded."""
    store = open_app_store(settings)
    intake = LeadIntake.open(RuntimeOptions.from_settings(settings))
    try:
        try:
            started = start(store, intake)
        except RunRequestError as exc:
            _fail(str(exc))
            return
        _report(store, started, wait_s)
    finally:
        intake.close()
        store.engine.dispose()


def run(
    ctx: typer.Context,
    flow: Annotated[str, typer.Argument(help="The flow's id or name.")],
    lead: Annotated[
        Path, typer.Option("--lead", help="A lead as JSON (see docs/flows.md, 'Dry runs').")
    ],
    wait: Wait = 0.0,
) -> None:
    """Run a flow's latest published version on a lead you give (durably, by a worker)."""
    try:
        chosen, _context = read_lead(_read_lead_file(lead))
    except ValueError as exc:
        raise typer.BadParameter(f"{lead}: {exc}", param_hint="--lead") from None
    _start(ctx.obj, wait, lambda store, intake: start_manual_run(store, intake, flow, chosen))


def rerun(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run to re-run (see `leadwire runs list`).")],
    latest: Annotated[
        bool, typer.Option("--latest", help="Through the flow's latest version (the default).")
    ] = False,
    version: Annotated[
        int | None, typer.Option(min=1, help="Through this published version instead.")
    ] = None,
    wait: Wait = 0.0,
) -> None:
    """Re-run a run's lead (or event, or due time) through another version of its flow."""
    if latest and version is not None:
        raise typer.BadParameter("give --latest or --version N, not both")
    _start(
        ctx.obj,
        wait,
        lambda store, intake: start_rerun(store, intake, run_id, version=version),
    )
