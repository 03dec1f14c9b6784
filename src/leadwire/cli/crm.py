"""`leadwire crm ...`: serve the embedded CRM and administer it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from leadwire.cli import crm_oauth, crm_webhooks
from leadwire.crm import admin
from leadwire.crm.app import create_app
from leadwire.crm.auth.principal import ALL_SCOPES
from leadwire.crm.models import ApiKey, Location
from leadwire.crm.store import open_store
from leadwire.settings import Settings

app = typer.Typer(help="The embedded CRM (HighLevel Contacts API v2).", no_args_is_help=True)
location_app = typer.Typer(help="Locations (sub-accounts).", no_args_is_help=True)
key_app = typer.Typer(help="API keys (private integration tokens).", no_args_is_help=True)
app.add_typer(location_app, name="location")
app.add_typer(key_app, name="key")
app.add_typer(crm_webhooks.app, name="webhook")
app.add_typer(crm_oauth.app, name="oauth-client")
console = Console()


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@app.command()
def serve(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port (default: LEADWIRE_CRM_PORT).")] = None,
) -> None:
    """Serve the CRM's Contacts API until interrupted."""
    from leadwire.cli.serving import serve as run

    settings = _settings(ctx)
    run(
        create_app(settings), settings.host, port or settings.crm_port, log_level=settings.log_level
    )


@app.command()
def seed(
    ctx: typer.Context,
    location: Annotated[
        str | None, typer.Option("--location", "-l", help="Location id (default: a new one).")
    ] = None,
    contacts: Annotated[int, typer.Option(min=0, help="How many demo contacts.")] = 25,
    random_seed: Annotated[
        int, typer.Option(help="Seed of the generator (same seed, same data).")
    ] = 7,
) -> None:
    """Fill a location with demo data: contacts with tasks, notes, appointments, businesses."""
    import random

    from leadwire.crm.seed import seed_demo

    store = open_store(_settings(ctx))
    with store.sessions() as session:
        location_id = location or admin.create_location(session, "demo").id
        try:
            summary = seed_demo(
                session, location_id, contacts=contacts, rng=random.Random(random_seed)
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    table = Table("location", "contacts", "tasks", "notes", "appointments", "businesses")
    table.add_row(
        summary.location_id,
        str(len(summary.contact_ids)),
        str(summary.tasks),
        str(summary.notes),
        str(summary.appointments),
        str(summary.businesses),
    )
    console.print(table)


@location_app.command("create")
def location_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the location.")],
    allow_duplicates: Annotated[
        bool, typer.Option(help="Allow two contacts with the same email or phone.")
    ] = False,
    timezone: Annotated[str, typer.Option(help="IANA time zone of the location.")] = "UTC",
) -> None:
    """Create a location and print its id."""
    store = open_store(_settings(ctx))
    with store.sessions() as session:
        location = admin.create_location(
            session, name, allow_duplicates=allow_duplicates, timezone=timezone
        )
        session.commit()
    console.print(location.id)


@location_app.command("list")
def location_list(ctx: typer.Context) -> None:
    """List locations."""
    store = open_store(_settings(ctx))
    table = Table("id", "name", "duplicates allowed", "time zone")
    with store.read_sessions() as session:
        for loc in session.scalars(select(Location).order_by(Location.date_added)):
            table.add_row(loc.id, loc.name, "yes" if loc.allow_duplicates else "no", loc.timezone)
    console.print(table)


@key_app.command("create")
def key_create(
    ctx: typer.Context,
    location: Annotated[str, typer.Option("--location", "-l", help="Location id.")],
    name: Annotated[str, typer.Option(help="A name to tell the key by.")] = "api key",
    scope: Annotated[
        list[str] | None,
        typer.Option(help=f"Scope to grant (repeatable; default: {' '.join(ALL_SCOPES)})."),
    ] = None,
) -> None:
    """Create an API key; the key is printed once and never stored in clear."""
    store = open_store(_settings(ctx))
    with store.sessions() as session:
        try:
            issued = admin.create_api_key(session, location, name, tuple(scope or ALL_SCOPES))
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    console.print(f"key id {issued.id} (scopes: {' '.join(issued.scopes)}); the key, shown once:")
    typer.echo(issued.token)


@key_app.command("list")
def key_list(
    ctx: typer.Context,
    location: Annotated[str, typer.Option("--location", "-l", help="Location id.")],
) -> None:
    """List a location's keys (never the keys themselves)."""
    store = open_store(_settings(ctx))
    table = Table("id", "name", "starts with", "scopes", "revoked")
    with store.read_sessions() as session:
        keys = session.scalars(select(ApiKey).where(ApiKey.location_id == location))
        for key in keys:
            revoked = str(key.revoked_at) if key.revoked_at else ""
            table.add_row(key.id, key.name, key.prefix + "…", key.scopes, revoked)
    console.print(table)


@key_app.command("revoke")
def key_revoke(ctx: typer.Context, key_id: Annotated[str, typer.Argument(help="Key id.")]) -> None:
    """Revoke an API key."""
    store = open_store(_settings(ctx))
    with store.sessions() as session:
        done = admin.revoke_api_key(session, key_id)
        session.commit()
    if not done:
        raise typer.BadParameter(f"no active key with id {key_id}")
    console.print(f"revoked {key_id}")
