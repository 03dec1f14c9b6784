"""`leadwire leads ...`: take Pinterest leads in through leads exports — backfill, poll, cursors.

Leads go through the same intake as webhook deliveries: a lead a flow already ran (by a hook,
an earlier poll, an older version of the flow) starts nothing, so running these again, or
over days already polled, is safe. Runs are only accepted here; workers run them.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from leadwire.engine.connections import ConnectionKind, list_connections
from leadwire.engine.runtime import LeadIntake, RuntimeOptions
from leadwire.engine.secrets import open_keyring
from leadwire.engine.sources.polling import (
    Poller,
    PollOptions,
    PollProgress,
    PollReport,
)
from leadwire.engine.sources.polling_cursor import CursorKey, list_cursors
from leadwire.engine.sources.routing import FlowRoutes
from leadwire.errors import BadRequestError, NotFoundError
from leadwire.settings import Settings
from leadwire.store.app import open_app_store

app = typer.Typer(
    help="Pinterest leads by leads export: backfill a date range, poll now, show cursors.",
    no_args_is_help=True,
)

ConnectionOption = Annotated[
    str | None,
    typer.Option("--connection", help="Pinterest connection (name or id); default: the only one."),
]
AdAccountOption = Annotated[
    str | None,
    typer.Option("--ad-account", help="Ad account id; default: the connection's."),
]


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def parse_day(value: str | None, option: str) -> date | None:
    """Return `value` (YYYY-MM-DD) as a date; a clear error naming `option` if it is not one."""
    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not a date: use YYYY-MM-DD, e.g. 2026-11-01", param_hint=option
        ) from None


@contextmanager
def _poller(ctx: typer.Context) -> Iterator[Poller]:
    settings: Settings = ctx.obj
    store = open_app_store(settings)
    intake = LeadIntake.open(RuntimeOptions.from_settings(settings))
    try:
        yield Poller(
            store,
            open_keyring(settings),
            intake,
            FlowRoutes(store.read_sessions),
            options=PollOptions(),
        )
    finally:
        intake.close()
        store.engine.dispose()


def _key(poller: Poller, connection: str | None, ad_account: str | None) -> CursorKey:
    if ad_account is not None and not ad_account.isdigit():
        raise typer.BadParameter(
            f"{ad_account!r} is not an ad account id", param_hint="--ad-account"
        )
    if connection is None:
        with poller.store.read_sessions() as session:
            names = [
                c.name for c in list_connections(session) if c.kind is ConnectionKind.PINTEREST
            ]
        if not names:
            _fail("no Pinterest connection: add one with `leadwire connections add-pinterest`")
        if len(names) > 1:
            _fail(
                f"{len(names)} Pinterest connections ({', '.join(names)}): choose with --connection"
            )
        connection = names[0]
    try:
        key = poller.key_for(connection, ad_account)
    except (NotFoundError, BadRequestError) as exc:
        raise typer.BadParameter(str(exc), param_hint="--connection") from None
    if not poller.is_wanted(key):
        _fail(
            f"no published flow takes leads of ad account {key.ad_account_id}: nothing would run. "
            "Publish one first (`leadwire flows publish`)"
        )
    return key


@contextmanager
def _progress(console: Console) -> Iterator[Progress]:
    progress = Progress(
        TextColumn("[bold]exports"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[ads]} · {task.fields[leads]} leads · {task.fields[runs]} runs"),
        TimeElapsedColumn(),
        console=console,
    )
    with progress:
        yield progress


def _run(
    ctx: typer.Context,
    connection: str | None,
    ad_account: str | None,
    since: date | None,
    until: date | None,
) -> None:
    console = _console()
    with _poller(ctx) as poller:
        key = _key(poller, connection, ad_account)
        with _progress(console) as progress:
            task: TaskID = progress.add_task("exports", total=None, ads="", leads=0, runs=0)

            def show(step: PollProgress) -> None:
                progress.update(
                    task,
                    completed=step.exports_done,
                    total=step.exports_total,
                    ads=f"{step.ads_done}/{step.ads_total} ads",
                    leads=step.leads_seen,
                    runs=step.runs_accepted,
                )

            if since is None:
                report = poller.poll(key, progress=show)
            else:
                report = poller.backfill(key, since, until=until, progress=show)
    _summary(console, report)
    if not report.is_clean:
        raise typer.Exit(1)


def _summary(console: Console, report: PollReport) -> None:
    table = Table("window (UTC)", "lead ads", "polled", "skipped", "leads", "runs started")
    table.add_column("already run")
    table.add_column("no flow")
    table.add_column("errors")
    table.add_row(
        f"{report.window_start} .. {report.window_end}",
        str(report.lead_ads),
        str(report.ads_polled),
        str(report.ads_skipped),
        str(report.leads_seen),
        str(report.runs_accepted),
        str(report.duplicates),
        str(report.unmatched),
        str(len(report.errors) + (report.account_error is not None)),
    )
    console.print(table)
    if report.ads_skipped:
        console.print(f"{report.ads_skipped} lead ad(s) skipped: no live flow takes their form")
    if report.account_error:
        console.print(f"[red]ad account {report.ad_account_id}: {report.account_error}")
    if report.errors:
        errors = Table("ad", "error", title="ads that failed (polled again next time)")
        for ad_id, message in report.errors.items():
            errors.add_row(ad_id, message)
        console.print(errors)
    cursor = report.cursor
    if cursor is not None:
        console.print(f"cursor: covered through {cursor.covered_through or 'nothing yet'}")


@app.command()
def backfill(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", help="First day (UTC, YYYY-MM-DD) whose leads to take in.")
    ],
    until: Annotated[
        str | None, typer.Option("--until", help="Last day (UTC, YYYY-MM-DD); default: today.")
    ] = None,
    connection: ConnectionOption = None,
    ad_account: AdAccountOption = None,
) -> None:
    """Export and take in every lead of a date range (the cursor never moves backwards)."""
    first = parse_day(since, "--since")
    last = parse_day(until, "--until")
    assert first is not None
    today = datetime.now(UTC).date()
    if last is not None and first > last:
        raise typer.BadParameter(f"{first} is after --until {last}", param_hint="--since")
    if first > today:
        raise typer.BadParameter(f"{first} is in the future (UTC)", param_hint="--since")
    if last is not None and last > today:
        raise typer.BadParameter(f"{last} is in the future (UTC)", param_hint="--until")
    if first < today - timedelta(days=30):
        _console().print(
            "[yellow]note: Pinterest keeps lead data for 30 days; older days may export nothing"
        )
    _run(ctx, connection, ad_account, first, last)


@app.command()
def poll(
    ctx: typer.Context, connection: ConnectionOption = None, ad_account: AdAccountOption = None
) -> None:
    """Poll now: export the days since the cursor (with the overlap) and take the leads in."""
    _run(ctx, connection, ad_account, None, None)


@app.command()
def cursors(ctx: typer.Context) -> None:
    """Show each polled ad account: days covered, last window, last poll and its error."""
    settings: Settings = ctx.obj
    store = open_app_store(settings)
    try:
        with store.read_sessions() as session:
            rows = list_cursors(session)
            names: dict[str, str] = {c.id: c.name for c in list_connections(session)}
    finally:
        store.engine.dispose()
    table = Table("connection", "ad account", "covered through", "last window", "newest lead")
    table.add_column("last polled")
    table.add_column("last error")
    for cursor in rows:
        window = f"{cursor.window_start} .. {cursor.window_end}" if cursor.window_start else ""
        table.add_row(
            names.get(cursor.key.connection_id, cursor.key.connection_id),
            cursor.key.ad_account_id,
            str(cursor.covered_through or ""),
            window,
            _when(cursor.high_water_at),
            _when(cursor.last_polled_at),
            cursor.last_error or "",
        )
    _console().print(table)


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""
