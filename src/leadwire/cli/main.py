"""The `leadwire` command: `up` starts everything on embedded defaults; sub-commands per part."""

from __future__ import annotations

import typer

from leadwire.cli import (
    connections,
    crm,
    flows,
    flows_run,
    hooks,
    inbox,
    keys,
    leads,
    runs,
    runs_prune,
    sandbox,
    stack,
)
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
app.add_typer(leads.app, name="leads")
app.add_typer(runs.app, name="runs")
app.add_typer(inbox.app, name="inbox")
app.add_typer(hooks.app, name="hooks")
runs.app.command("prune")(runs_prune.prune)
runs.app.command("rerun")(flows_run.rerun)
flows.app.command("run")(flows_run.run)


@app.callback()
def main(ctx: typer.Context) -> None:
    """Read settings once (LEADWIRE_* variables and .env) and pass them to every command."""
    settings = Settings()
    configure_logging(settings.log_level)
    ctx.obj = settings


app.command()(stack.up)
app.command()(stack.serve)
app.command()(stack.worker)
app.command()(stack.demo)
