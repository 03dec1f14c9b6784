"""`leadwire sandbox ...`: serve the Pinterest sandbox and administer it."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import select

from leadwire.cli import sandbox_catch, sandbox_leads
from leadwire.sandbox import admin
from leadwire.sandbox.models import UserAccount
from leadwire.sandbox.store import open_store
from leadwire.settings import Settings

app = typer.Typer(
    help="The Pinterest sandbox: a local Pinterest API v5 (lead ads) with OAuth.",
    no_args_is_help=True,
)
app_app = typer.Typer(help="Sandbox apps (OAuth clients).", no_args_is_help=True)
app.add_typer(app_app, name="app")
console = Console()


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


@app.command()
def serve(
    ctx: typer.Context,
    port: Annotated[int | None, typer.Option(help="Port (default: LEADWIRE_SANDBOX_PORT).")] = None,
) -> None:
    """Serve the sandbox's /v5 API and /oauth page until interrupted."""
    from leadwire.cli.serving import serve as run
    from leadwire.sandbox.app import create_app

    settings = _settings(ctx)
    run(
        create_app(settings),
        settings.host,
        port or settings.sandbox_port,
        log_level=settings.log_level,
    )


@app_app.command("create")
def app_create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Name of the app, shown on the authorize page.")],
    owner: Annotated[
        str | None,
        typer.Option(help="Username of the owner (client_credentials tokens act as them)."),
    ] = None,
    redirect_uri: Annotated[
        list[str] | None,
        typer.Option(help="Allowed redirect URI (repeatable; none: any http(s) URI)."),
    ] = None,
) -> None:
    """Create an app; its client secret is printed once and never stored in clear."""
    store = open_store(_settings(ctx))
    with store.sessions() as session:
        owner_id = None
        if owner is not None:
            user = session.scalar(select(UserAccount).where(UserAccount.username == owner))
            if user is None:
                raise typer.BadParameter(f"no sandbox user named {owner!r}")
            owner_id = user.id
        try:
            issued = admin.create_app(
                session, name, owner_id=owner_id, redirect_uris=tuple(redirect_uri or ())
            )
        except ValueError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    console.print(f"client id {issued.id}; the client secret, shown once:")
    typer.echo(issued.secret)


@app.command()
def demo(ctx: typer.Context) -> None:
    """Create (or find) a demo user, app, ad account and lead ads; print their ids and a token."""
    settings = _settings(ctx)
    store = open_store(settings)
    with store.sessions() as session:
        world = admin.demo_world(session, settings)
        session.commit()
    base = settings.sandbox_public_url or f"http://{settings.host}:{settings.sandbox_port}"
    typer.echo(f"sandbox API      {base}/v5")
    typer.echo(f"client id        {world.app.id}")
    typer.echo(f"client secret    {world.app.secret}")
    typer.echo(f"user id          {world.user_id}")
    typer.echo(f"ad account id    {world.ad_account_id}")
    typer.echo(f"campaign id      {world.hierarchy.campaign_id}")
    typer.echo(f"ad group id      {world.hierarchy.ad_group_id}")
    for ad in world.hierarchy.ads:
        typer.echo(f"lead form id     {ad.lead_form_id}  (lead ad {ad.ad_id}: {ad.name})")
    typer.echo(f"access token     {world.token.access_token}")
    typer.echo(f"refresh token    {world.token.refresh_token}")
    typer.echo(
        f'try: curl -H "Authorization: Bearer {world.token.access_token}" '
        f'"{base}/v5/ad_accounts/{world.ad_account_id}/lead_forms"'
    )


sandbox_leads.register(app)
sandbox_catch.register(app)
