"""`leadwire sandbox leads` (the lead generator) and `leadwire sandbox deliveries` (their log).

Both work on the sandbox store directly, so they need no token and no running server. Leads are
recorded with their pending deliveries; a running `leadwire sandbox serve` (on the same store)
sends them — within one poll interval, since its dispatcher is in another process.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy import select

from leadwire.sandbox.answers import pair_answers
from leadwire.sandbox.deliveries import STATUSES, log_query
from leadwire.sandbox.generator import LOCALES, LeadGenerator
from leadwire.sandbox.leads import Source, lead_ad_of, matching_subscriptions, record_lead
from leadwire.sandbox.models import Delivery, LeadForm
from leadwire.sandbox.store import SandboxStore, open_store
from leadwire.settings import Settings


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


@contextmanager
def _store(ctx: typer.Context) -> Iterator[SandboxStore]:
    settings: Settings = ctx.obj
    store = open_store(settings)
    try:
        yield store
    finally:
        store.engine.dispose()


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""


def leads(
    ctx: typer.Context,
    form: Annotated[str, typer.Option("--form", help="Id of the lead form the leads fill in.")],
    count: Annotated[int, typer.Option(min=1, max=100_000, help="How many leads.")] = 10,
    rate: Annotated[float, typer.Option(min=0.01, help="Leads per second.")] = 1.0,
    locale: Annotated[
        str, typer.Option(help=f"Locale of names, addresses, phones: {', '.join(LOCALES)}.")
    ] = "en_US",
    seed: Annotated[
        int | None, typer.Option(help="Seed: the same seed makes the same people.")
    ] = None,
) -> None:
    """Submit realistic fake leads to a form at a steady rate; each is queued for delivery."""
    if locale not in LOCALES:
        raise typer.BadParameter(f"choose one of {', '.join(LOCALES)}", param_hint="--locale")
    generator = LeadGenerator(locale, seed if seed is not None else time.time_ns())
    console = _console()
    recorded = queued = 0
    with _store(ctx) as store:
        with store.read_sessions() as session:
            found = session.get(LeadForm, form)
            if found is None:
                raise typer.BadParameter(
                    f"no sandbox lead form with id {form}", param_hint="--form"
                )
            questions = list(found.questions)
            context = lead_ad_of(session, found)
            receivers = len(matching_subscriptions(session, found.ad_account_id, found.id))
        progress = Progress(
            TextColumn("[bold]leads"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
        )
        started = time.monotonic()
        with progress:
            task = progress.add_task("leads", total=count)
            for index in range(count):
                # Paced from the start, not from the last lead: a slow commit does not lower
                # the rate, and the run takes count / rate seconds.
                time.sleep(max(0.0, started + index / rate - time.monotonic()))
                answers = pair_answers(questions, generator.answers(questions))
                with store.sessions() as session:
                    lead = record_lead(
                        session,
                        ad_account_id=found.ad_account_id,
                        lead_form_id=found.id,
                        answers=answers,
                        source=Source.GENERATOR,
                        context=context,
                    )
                    session.flush()
                    queued += len(
                        session.scalars(
                            select(Delivery.id).where(Delivery.lead_id == lead.id)
                        ).all()
                    )
                    session.commit()
                recorded += 1
                progress.advance(task)
    console.print(f"recorded {recorded} lead(s) for form {form}; {queued} delivery(ies) queued")
    if not receivers:
        console.print(
            "no webhook subscription for this form or its ad account: nothing will be delivered "
            "(the leads still appear in leads exports of the form's ad)"
        )
    else:
        console.print("a running `leadwire sandbox serve` delivers them; see `sandbox deliveries`")


def deliveries(
    ctx: typer.Context,
    subscription: Annotated[
        str | None, typer.Option("--subscription", help="Only this subscription's.")
    ] = None,
    status: Annotated[str | None, typer.Option(help=f"Only {', '.join(STATUSES)} ones.")] = None,
    lead: Annotated[str | None, typer.Option("--lead", help="Only this lead's.")] = None,
    account: Annotated[
        str | None, typer.Option("--account", help="Only this ad account's.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 25,
) -> None:
    """Show webhook deliveries: status, attempts, last answer or error, times (UTC)."""
    if status is not None and status not in STATUSES:
        raise typer.BadParameter(f"choose one of {', '.join(STATUSES)}", param_hint="--status")
    table = Table(
        "lead", "subscription", "status", "attempts", "code", "last error", "queued", "next/done"
    )
    with _store(ctx) as store, store.read_sessions() as session:
        query = log_query(
            ad_account_id=account,
            subscription_id=subscription,
            lead_id=lead,
            statuses=(status,) if status else (),
        )
        for row in session.scalars(query.order_by(Delivery.id.desc()).limit(limit)):
            done = row.next_attempt_at if row.status == "pending" else row.delivered_at
            table.add_row(
                row.lead_id,
                row.subscription_id,
                row.status,
                str(row.attempts),
                str(row.last_status_code or ""),
                row.last_error or "",
                _when(row.date_added),
                _when(done),
            )
    _console().print(table)


def register(app: typer.Typer) -> None:
    """Add the generator's and the delivery log's commands to the `sandbox` app."""
    app.command("leads")(leads)
    app.command("deliveries")(deliveries)
