"""`leadwire inbox`: the runs that need a person — list them, replay them, dismiss them.

A replay runs the lead again from the step that failed (the steps before it are not repeated),
through the same rate-limited queue as new leads; a worker (`leadwire up` or `leadwire worker`)
picks it up. Replaying or dismissing an item that is no longer open does nothing and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from leadwire.cli.runs import flow_id_of
from leadwire.engine.history import ItemAction, Outcome, dismiss_item, replay_item, replay_open
from leadwire.engine.history.actions import BULK_LIMIT
from leadwire.engine.runtime import Inbox, LeadIntake, RuntimeOptions
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from leadwire.store.models.runs import InboxStatus
from leadwire.web.wire import InboxOut, to_json

app = typer.Typer(
    help="The needs-attention inbox: runs that failed for good or ran out of retries.",
    no_args_is_help=True,
)


class Shown(StrEnum):
    """Which items `list` shows."""

    OPEN = "open"
    REPLAYED = "replayed"
    DISMISSED = "dismissed"
    ALL = "all"


@dataclass(frozen=True)
class _Opened:
    store: AppStore
    inbox: Inbox


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


@contextmanager
def _open(ctx: typer.Context) -> Iterator[_Opened]:
    settings: Settings = ctx.obj
    store = open_app_store(settings)
    try:
        intake = LeadIntake.open(RuntimeOptions.from_settings(settings))
        try:
            yield _Opened(store, intake.inbox())
        finally:
            intake.close()
    finally:
        store.engine.dispose()


def _report(action: ItemAction, done: str) -> None:
    if action.outcome is not Outcome.DONE:
        typer.echo(action.message, err=True)
        raise typer.Exit(1)
    typer.echo(done)


@app.command("list")
def list_items(
    ctx: typer.Context,
    status: Annotated[Shown, typer.Option(help="Which items.")] = Shown.OPEN,
    flow: Annotated[str | None, typer.Option(help="Items of this flow (id or name).")] = None,
    limit: Annotated[int, typer.Option(min=1, max=BULK_LIMIT, help="At most this many.")] = 100,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON, as the API.")] = False,
) -> None:
    """List inbox items, oldest failure first: the failed step and why."""
    with _open(ctx) as opened:
        flow_id = None
        if flow is not None:
            with opened.store.read_sessions() as session:
                flow_id = flow_id_of(session, flow)
        chosen = None if status is Shown.ALL else InboxStatus(status.value)
        items = opened.inbox.items(status=chosen, flow_id=flow_id, limit=limit)
    if as_json:
        typer.echo(to_json(InboxOut(items)))
        return
    console = _console()
    if not items:
        console.print(f"no {'' if status is Shown.ALL else status.value + ' '}inbox items")
        return
    table = Table()
    for header in ("last failed", "run", "lead", "step", "tries", "error", "status"):
        table.add_column(header, overflow="fold")
    for item in items:
        table.add_row(
            *(
                Text(cell)
                for cell in (
                    f"{item.last_failed_at:%Y-%m-%d %H:%M:%S}Z",
                    item.run_id,
                    item.lead_id,
                    item.failed_step,
                    str(item.attempts),
                    f"{item.error_type}: {item.error_message}",
                    item.status.value,
                )
            )
        )
    console.print(table)


@app.command()
def replay(
    ctx: typer.Context,
    run_id: Annotated[str | None, typer.Argument(help="The run to replay.")] = None,
    replay_all: Annotated[
        bool, typer.Option("--all", help="Replay every open item (of --flow, if given).")
    ] = False,
    flow: Annotated[str | None, typer.Option(help="With --all: only this flow's items.")] = None,
) -> None:
    """Replay one run (RUN_ID), or every open one (--all [--flow F]), from its failed step."""
    if (run_id is None) == (not replay_all):
        raise typer.BadParameter("give a RUN_ID, or --all (optionally with --flow)")
    if flow is not None and not replay_all:
        raise typer.BadParameter("--flow goes with --all", param_hint="--flow")
    with _open(ctx) as opened:
        if run_id is not None:
            action = replay_item(opened.inbox, opened.store.read_sessions, run_id)
            _report(action, f"replaying {run_id} as workflow {action.workflow_id}")
            return
        flow_id = None
        if flow is not None:
            with opened.store.read_sessions() as session:
                flow_id = flow_id_of(session, flow)
        done = replay_open(opened.inbox, opened.store.read_sessions, flow_id=flow_id)
    typer.echo(f"replaying {done.replayed} run(s); {done.remaining} still open")
    if done.remaining:
        typer.echo("run the command again for the next batch")


@app.command()
def dismiss(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(help="The run whose item to close.")],
) -> None:
    """Close an open item without replaying it (the run ends as dismissed)."""
    with _open(ctx) as opened:
        action = dismiss_item(opened.inbox, opened.store.read_sessions, run_id)
    _report(action, f"dismissed {run_id}")
