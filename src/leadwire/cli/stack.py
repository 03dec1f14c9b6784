"""`leadwire up`, `serve`, `worker` and `demo`: the ways leadwire runs, and the demo."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from leadwire.settings import Settings


def _engine_url(settings: Settings) -> str:
    return f"http://{settings.host}:{settings.engine_port}"


def up(ctx: typer.Context) -> None:
    """Start everything on embedded defaults, on 127.0.0.1, ready for `leadwire demo`.

    The receiver and JSON API, the engine's worker, the embedded CRM and the Pinterest
    sandbox, in one process, with a demo location, ad account and forms, the three templates
    published and the sandbox subscribed to the receiver.
    """
    from leadwire.cli.serving import limit_malloc_arenas
    from leadwire.stack.provision import Demo
    from leadwire.stack.run import run_up, up_settings

    settings: Settings = ctx.obj
    limit_malloc_arenas()

    def ready(demo: Demo) -> None:
        world = demo.world
        lines = [
            f"receiver + API {_engine_url(settings)}   (runs: leadwire runs list)",
            f"API token      {demo.api_token or '(LEADWIRE_API_TOKEN)'}",
            f"Pinterest sandbox {demo.sandbox_url}/v5   ad account {world.ad_account_id}",
            *(
                f"  lead form      {ad.lead_form_id}  (lead ad {ad.ad_id}: {ad.name})"
                for ad in world.hierarchy.ads
            ),
            "flows          " + ", ".join(f"{name} v{version}" for name, version in demo.flows),
            f"embedded CRM   {demo.crm_url}   (rate limit {up_settings(settings).crm_rate_burst}"
            f" requests / {settings.crm_rate_interval_ms / 1000:g} s per location)",
            f"location id    {demo.location_id}",
            f"API key        {demo.api_key}",
            "send leads:    leadwire demo --count 20",
            f'try: curl -H "Authorization: Bearer {demo.api_key}" -H "Version: 2021-07-28" '
            f'"{demo.crm_url}/contacts/?locationId={demo.location_id}"',
        ]
        typer.echo("\n".join(lines), nl=True)

    run_up(settings, on_ready=ready)


def serve(ctx: typer.Context) -> None:
    """Run the receiver and JSON API only (scale-out: run `leadwire worker`s beside it)."""
    from leadwire.cli.serving import limit_malloc_arenas
    from leadwire.stack.run import run_serve

    settings: Settings = ctx.obj
    limit_malloc_arenas()
    run_serve(settings, on_ready=lambda: typer.echo(f"receiver + API {_engine_url(settings)}"))


def worker(ctx: typer.Context) -> None:
    """Run leads through their flows (any number of workers, on PostgreSQL).

    Also prunes old runs and polls Pinterest's leads exports for leads a webhook missed.
    """
    from leadwire.cli.serving import limit_malloc_arenas
    from leadwire.stack.run import run_worker

    settings: Settings = ctx.obj
    limit_malloc_arenas()
    run_worker(settings, on_ready=lambda: typer.echo(f"worker {settings.executor_id()} ready"))


def demo(
    ctx: typer.Context,
    count: Annotated[int, typer.Option(min=1, max=10_000, help="How many leads to send.")] = 20,
    rate: Annotated[
        float,
        typer.Option(
            min=0.1,
            max=1000,
            help="Leads per second. `up` is one process: above ~5 a second (three flows) leads"
            " queue, and the latency shown is the queue's.",
        ),
    ] = 5.0,
    timeout: Annotated[
        float, typer.Option(min=1, help="Seconds to wait for the leads to land.")
    ] = 300.0,
    seed: Annotated[int | None, typer.Option(help="Seed of the fake people.")] = None,
) -> None:
    """Send sandbox leads through a running `leadwire up` and print what landed in the CRM."""
    from leadwire.crm.store import open_store as open_crm_store
    from leadwire.engine.secrets import open_keyring
    from leadwire.sandbox.store import open_store as open_sandbox_store
    from leadwire.stack.demo import report, send_leads, wait_for_runs
    from leadwire.stack.provision import live_flow_count
    from leadwire.store.app import open_app_store

    settings: Settings = ctx.obj
    console = Console()
    app_store = open_app_store(settings)
    ring = open_keyring(settings)
    sandbox = open_sandbox_store(settings)
    flows = live_flow_count(app_store)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
        sending = progress.add_task("sent   ", total=count)
        landing = progress.add_task("landed ", total=count)
        try:
            sent = send_leads(
                app_store,
                ring,
                sandbox,
                count=count,
                rate=rate,
                seed=seed if seed is not None else time.time_ns(),
                on_sent=lambda: progress.advance(sending),
            )
        except LookupError as exc:
            raise typer.BadParameter(str(exc)) from None
        done = wait_for_runs(
            app_store,
            sent,
            flows=flows,
            timeout_s=timeout,
            on_progress=lambda n: progress.update(landing, completed=n),
        )
    landed = report(app_store, open_crm_store(settings, migrate=False), sent, flows=flows)
    table = Table("what", "count", title=f"{count} lead(s) through {flows} flow(s)")
    table.add_row("leads landed (every run ended)", str(done))
    table.add_row("runs succeeded", f"{landed.runs_succeeded} of {landed.runs}")
    table.add_row(
        "contacts",
        f"{landed.contacts} ({landed.new_contacts} new, "
        f"{landed.contacts - landed.new_contacts} already there)",
    )
    table.add_row("tags on them", str(landed.tags))
    table.add_row("tasks added", str(landed.tasks))
    table.add_row("notes added", str(landed.notes))
    table.add_row("failures (inbox)", str(len(landed.failures)))
    p50, p99 = landed.percentile(0.5), landed.percentile(0.99)
    if p50 is not None and p99 is not None:
        table.add_row("lead-to-CRM latency p50", f"{p50:.0f} ms")
        table.add_row("lead-to-CRM latency p99", f"{p99:.0f} ms")
    console.print(table)
    for run_id, reason in landed.failures[:10]:
        console.print(f"[red]inbox[/red] {run_id}: {reason}")
    if done < count or landed.failures:
        raise typer.Exit(1)
