"""The `leadwire` command: `up` starts everything on embedded defaults; sub-commands per part."""

from __future__ import annotations

import random
from typing import Annotated

import typer

from leadwire.cli import connections, crm, flows, keys, sandbox
from leadwire.logs import configure_logging
from leadwire.settings import Settings

app = typer.Typer(
    help="leadwire: Pinterest Lead Ads into your CRM's Contacts API, durably, without code.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
app.add_typer(crm.app, name="crm")
app.add_typer(sandbox.app, name="sandbox")
app.add_typer(keys.app, name="keys")
app.add_typer(connections.app, name="connections")
app.add_typer(flows.app, name="flows")


@app.callback()
def main(ctx: typer.Context) -> None:
    """Read settings once (LEADWIRE_* variables and .env) and pass them to every command."""
    settings = Settings()
    configure_logging(settings.log_level)
    ctx.obj = settings


@app.command()
def up(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="CRM port (default: LEADWIRE_CRM_PORT).")] = None,
) -> None:
    """Start leadwire on embedded defaults: the CRM with a demo location, on 127.0.0.1."""
    from leadwire.cli.serving import serve
    from leadwire.crm import admin
    from leadwire.crm.app import create_app
    from leadwire.crm.seed import seed_demo
    from leadwire.crm.store import open_store

    settings: Settings = ctx.obj
    port = port if port is not None else settings.crm_port
    store = open_store(settings)
    with store.sessions() as session:
        location, is_new = admin.demo_location(session)
        if is_new:
            seed_demo(session, location.id, contacts=10, rng=random.Random(7))
        issued = admin.rotate_up_key(session, location.id)
        session.commit()
    url = f"http://{settings.host}:{port}"
    typer.echo(f"embedded CRM   {url}")
    typer.echo(f"location id    {location.id}")
    typer.echo(f"API key        {issued.token}")
    typer.echo(
        f'try: curl -H "Authorization: Bearer {issued.token}" -H "Version: 2021-07-28" '
        f'"{url}/contacts/?locationId={location.id}"'
    )
    serve(create_app(settings, store=store), settings.host, port, log_level=settings.log_level)
