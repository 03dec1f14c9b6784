"""`leadwire crm webhook ...`: subscribe URLs to the CRM's events, and see what was delivered."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadwire.crm.events import EventType
from leadwire.crm.store import CrmStore, open_store
from leadwire.crm.webhooks import subscriptions
from leadwire.crm.webhooks.subscriptions import SubscriptionError
from leadwire.crm.wire.common import iso_ms
from leadwire.logs import redact_url
from leadwire.settings import Settings

app = typer.Typer(
    name="webhook",
    help="Event webhooks (ContactCreate, TaskComplete, ...): signed POSTs to your URLs.",
    no_args_is_help=True,
)


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


@contextmanager
def _store(ctx: typer.Context) -> Iterator[CrmStore]:
    settings: Settings = ctx.obj
    store = open_store(settings)
    try:
        yield store
    finally:
        store.engine.dispose()


@app.command("add")
def add(
    ctx: typer.Context,
    location: Annotated[str, typer.Option("--location", "-l", help="Location id.")],
    url: Annotated[str, typer.Option(help="http:// or https:// URL that receives the POSTs.")],
    event: Annotated[
        list[EventType] | None,
        typer.Option(help="Event type to send (repeatable; default: every event)."),
    ] = None,
) -> None:
    """Subscribe a URL to a location's events and print the subscription id."""
    with _store(ctx) as store, store.sessions() as session:
        try:
            sub = subscriptions.create_subscription(session, location, url, event or ())
        except SubscriptionError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    console = _console()
    console.print(f"subscription {sub.id} → {redact_url(sub.url)}")
    console.print(f"events: {', '.join(sub.events) or 'all'}")
    typer.echo(sub.id)


@app.command("list")
def list_(
    ctx: typer.Context,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Only this location's.")
    ] = None,
) -> None:
    """List subscriptions (URLs with secrets redacted)."""
    table = Table("id", "location", "url", "events", "active", "added")
    with _store(ctx) as store, store.read_sessions() as session:
        for sub in subscriptions.list_subscriptions(session, location):
            table.add_row(
                sub.id,
                sub.location_id,
                redact_url(sub.url),
                ", ".join(sub.events) or "all",
                "yes" if sub.is_active else "no",
                iso_ms(sub.date_added),
            )
    _console().print(table)


@app.command("remove")
def remove(
    ctx: typer.Context,
    subscription_id: Annotated[str, typer.Argument(help="Subscription id.")],
) -> None:
    """Delete a subscription and its delivery history."""
    with _store(ctx) as store, store.sessions() as session:
        done = subscriptions.delete_subscription(session, subscription_id)
        session.commit()
    if not done:
        raise typer.BadParameter(f"no subscription with id {subscription_id}")
    _console().print(f"removed {subscription_id}")


@app.command("disable")
def disable(
    ctx: typer.Context,
    subscription_id: Annotated[str, typer.Argument(help="Subscription id.")],
) -> None:
    """Stop sending to a subscription (its pending deliveries fail); history is kept."""
    with _store(ctx) as store, store.sessions() as session:
        done = subscriptions.deactivate_subscription(session, subscription_id)
        session.commit()
    if not done:
        raise typer.BadParameter(f"no active subscription with id {subscription_id}")
    _console().print(f"disabled {subscription_id}")


@app.command("deliveries")
def deliveries(
    ctx: typer.Context,
    location: Annotated[str, typer.Option("--location", "-l", help="Location id.")],
    limit: Annotated[int, typer.Option(min=1, max=1000, help="How many, newest first.")] = 20,
    status: Annotated[
        str | None, typer.Option(help="Only pending, delivered or failed ones.")
    ] = None,
) -> None:
    """Show a location's recent deliveries: status, attempts, last answer or error."""
    table = Table("id", "event", "status", "attempts", "code", "last error", "next/at", "url")
    with _store(ctx) as store, store.read_sessions() as session:
        try:
            rows = subscriptions.recent_deliveries(session, location, limit=limit, status=status)
        except SubscriptionError as exc:
            raise typer.BadParameter(str(exc)) from None
        for delivery, sub in rows:
            when = delivery.delivered_at if delivery.status == "delivered" else None
            if delivery.status == "pending":
                when = delivery.next_attempt_at
            table.add_row(
                delivery.id,
                delivery.event_type,
                delivery.status,
                str(delivery.attempts),
                str(delivery.last_status_code or ""),
                delivery.last_error or "",
                iso_ms(when) or "",
                redact_url(sub.url),
            )
    _console().print(table)
