"""`leadwire crm oauth-client ...`: register and list OAuth clients (marketplace apps)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadwire.crm.auth import clients
from leadwire.crm.auth.principal import ALL_SCOPES
from leadwire.crm.store import open_store
from leadwire.settings import Settings

app = typer.Typer(
    help="OAuth 2.0 clients (marketplace apps) that users can install on their locations.",
    no_args_is_help=True,
)
console = Console()


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Option(help="The app's name, shown on the consent page.")],
    redirect_uri: Annotated[
        list[str],
        typer.Option(help="A redirect URI, matched exactly (repeatable)."),
    ],
    company: Annotated[
        str | None, typer.Option(help="Company (agency) id whose locations may install it.")
    ] = None,
    location: Annotated[
        str | None,
        typer.Option("--location", "-l", help="Or: a location id; its company is used."),
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help=f"Scope it may request (repeatable; default: {' '.join(ALL_SCOPES)})."),
    ] = None,
) -> None:
    """Register an OAuth client; its secret is printed once and never stored in clear."""
    if (company is None) == (location is None):
        raise typer.BadParameter("give exactly one of --company and --location")
    store = open_store(_settings(ctx))
    try:
        with store.sessions() as session:
            try:
                company_id = company or clients.company_of_location(session, location or "")
                issued = clients.create_oauth_client(
                    session, name, redirect_uri, scope or list(ALL_SCOPES), company_id
                )
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
            session.commit()
    finally:
        store.engine.dispose()
    console.print(f"client id      {issued.id}")
    console.print(f"company        {issued.company_id}")
    console.print(f"scopes         {' '.join(issued.scopes)}")
    console.print(f"redirect URIs  {' '.join(issued.redirect_uris)}")
    console.print("client secret, shown once:")
    typer.echo(issued.secret)


@app.command("list")
def list_clients(
    ctx: typer.Context,
    company: Annotated[str | None, typer.Option(help="Only this company's clients.")] = None,
) -> None:
    """List OAuth clients (never their secrets, which are not kept)."""
    store = open_store(_settings(ctx))
    try:
        with store.read_sessions() as session:
            found = clients.list_oauth_clients(session, company)
    finally:
        store.engine.dispose()
    table = Table()
    # Ids are copied from here: fold them rather than cut them short on a narrow terminal.
    for header in ("id", "name", "company", "scopes", "redirect URIs", "added"):
        table.add_column(header, overflow="fold")
    for c in found:
        table.add_row(
            c.id,
            c.name,
            c.company_id,
            " ".join(c.scopes),
            "\n".join(c.redirect_uris),
            c.date_added.isoformat(timespec="seconds"),
        )
    console.print(table)
