"""`leadwire runs prune`: delete finished runs, closed inbox items and their workflows.

Workers prune on their own every `LEADWIRE_ENGINE_PRUNE_INTERVAL_S`; this command does it now,
or (`--dry-run`) counts what would go. See `leadwire.engine.runtime.retention` for what is
kept: open inbox items and runs still in progress always are.
"""

from __future__ import annotations

from typing import Annotated

import typer

from leadwire.engine.runtime.retention import Compaction, PruneReport, vacuum_sqlite
from leadwire.engine.runtime.retention import prune as prune_runs
from leadwire.engine.runtime.system_db import is_sqlite, open_engine
from leadwire.settings import Settings
from leadwire.store.app import open_app_store


def prune(
    ctx: typer.Context,
    older_than_days: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=(
                "Delete runs finished more than this many days ago "
                "(default: LEADWIRE_ENGINE_RETENTION_DAYS). A lead delivered again after "
                "its run is deleted runs again."
            ),
        ),
    ] = None,
    inbox_older_than_days: Annotated[
        int | None,
        typer.Option(
            min=0,
            help=(
                "Delete replayed or dismissed inbox items closed more than this many days ago "
                "(default: LEADWIRE_ENGINE_INBOX_RETENTION_DAYS)."
            ),
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would be deleted; delete nothing.")
    ] = False,
    vacuum: Annotated[
        bool,
        typer.Option(
            "--vacuum",
            help=(
                "SQLite: rewrite the file afterwards to give freed space back to the disk. "
                "Holds the database for the whole rewrite: stop the workers first."
            ),
        ),
    ] = False,
) -> None:
    """Delete finished runs, closed inbox items and their workflows past their retention."""
    settings: Settings = ctx.obj
    url = settings.app_url()
    keep_days = settings.engine_retention_days if older_than_days is None else older_than_days
    inbox_keep_days = (
        settings.engine_inbox_retention_days
        if inbox_older_than_days is None
        else inbox_older_than_days
    )
    # The same schema every other command brings up to date (a fresh folder has no tables).
    open_app_store(settings).engine.dispose()
    engine = open_engine(url, synchronous="NORMAL", pool_size=2, relaxed=True)
    try:
        report = prune_runs(
            engine, keep_days=keep_days, inbox_keep_days=inbox_keep_days, dry_run=dry_run
        )
        _print(report)
        if vacuum and not dry_run:
            if not is_sqlite(url):
                typer.echo("--vacuum is for SQLite; PostgreSQL's autovacuum reclaims the space")
            else:
                _print_compaction(vacuum_sqlite(engine), vacuumed=True)
    finally:
        engine.dispose()


def _print(report: PruneReport) -> None:
    typer.echo("would delete" if report.dry_run else "deleted")
    for label, count in (
        ("runs", report.runs),
        ("steps", report.steps),
        ("inbox items", report.inbox_items),
        ("workflows", report.workflows),
    ):
        typer.echo(f"  {label:<12}{count:>10}")
    if report.kept_running:
        typer.echo(f"kept {report.kept_running} finished runs whose workflows are still running")
    if report.compaction is not None:
        _print_compaction(report.compaction, vacuumed=False)


def _print_compaction(compaction: Compaction, *, vacuumed: bool) -> None:
    state = "truncated" if compaction.wal_truncated else "not truncated (busy readers)"
    typer.echo(
        f"SQLite: WAL {state}; {compaction.page_count} pages, "
        f"{compaction.freelist_pages} free (auto_vacuum {compaction.auto_vacuum})"
        + ("; vacuumed" if vacuumed else "")
    )
