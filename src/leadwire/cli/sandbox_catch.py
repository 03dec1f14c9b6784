"""`leadwire sandbox catch`: a local webhook URL that decrypts deliveries and shows each lead.

The quickest way to see the sandbox's encrypted deliveries turn into leads: point a
subscription's `webhook_url` at it and give it the subscription's `cryptographic_key`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from leadwire.connectors.pinterest.envelope import MAX_BODY_BYTES, decode_delivery
from leadwire.connectors.pinterest.leads import Lead
from leadwire.errors import DecodeError
from leadwire.settings import Settings


def catch_app(key_b64: str, on_lead: Callable[[Lead], None]) -> Starlette:
    """Return an app that decodes every POST to `/` with `key_b64` and hands each lead on.

    A body that cannot be decoded gets 400 — Pinterest does not retry a 4xx, and retrying
    cannot make a wrong key right.
    """

    async def receive(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body too large"}, status_code=413)
        try:
            leads = decode_delivery(body, key_b64)
        except DecodeError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        for lead in leads:
            on_lead(lead)
        return JSONResponse({"received": [lead.lead_id for lead in leads]})

    return Starlette(routes=[Route("/", receive, methods=["POST"])])


def _show(console: Console) -> Callable[[Lead], None]:
    def show(lead: Lead) -> None:
        table = Table(title=f"lead {lead.lead_id}" + (" (test)" if lead.is_test else ""))
        table.add_column("question")
        table.add_column("answer")
        for answer in lead.answers:
            table.add_row(answer.label or answer.question_type.value, answer.value)
        console.print(
            f"form {lead.lead_form_id}  ad account {lead.ad_account_id}  ad {lead.ad_id}  "
            f"campaign {lead.campaign_id}  created {lead.created_time.isoformat()}"
        )
        console.print(table)

    return show


def register(app: typer.Typer) -> None:
    """Add the `catch` command to the sandbox's Typer app."""

    @app.command()
    def catch(
        ctx: typer.Context,
        key_b64: Annotated[
            str,
            typer.Option(
                "--key",
                help="The subscription's cryptographic_key (asked for, hidden, if not given).",
                prompt="cryptographic_key",
                hide_input=True,
            ),
        ],
        port: Annotated[int, typer.Option(help="Port to listen on (127.0.0.1).")] = 9000,
    ) -> None:
        """Listen for deliveries on http://127.0.0.1:PORT/ and print each decrypted lead."""
        from leadwire.cli.serving import serve

        settings: Settings = ctx.obj
        console = Console()
        console.print(f"listening on http://{settings.host}:{port}/ — Ctrl-C to stop")
        serve(catch_app(key_b64, _show(console)), settings.host, port, log_level="warning")
