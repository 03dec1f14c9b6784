"""`leadwire flows`: the flow documents — schema, validate, templates, drafts, publish, dry runs.

Flows live in the app store; a flow is named by its id or its name. Edit a flow by exporting its
draft (`show`), changing the YAML and saving it back (`save`); `publish` freezes the draft as the
next version, which is what runs execute.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy.orm import Session

from leadwire.engine.connections.model import ConnectionKind
from leadwire.engine.connections.records import find_row
from leadwire.engine.flows import (
    FlowError,
    FlowValidationError,
    FlowVersion,
    dump_flow,
    flow_json_schema_text,
    list_templates,
    load_flow,
    load_template,
)
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.loading import parse_data
from leadwire.engine.planning import Plan, WebhookCall, plan, read_lead, sample_lead
from leadwire.engine.planning.plan import Wait
from leadwire.engine.secrets import open_keyring
from leadwire.errors import LeadwireError
from leadwire.settings import Settings
from leadwire.store.app import open_app_store

app = typer.Typer(
    help="Flow documents: schema, validation, templates, drafts, publishing and dry runs.",
    no_args_is_help=True,
)

FlowRef = Annotated[str, typer.Argument(help="The flow's id or name.")]


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


@contextmanager
def _session(ctx: typer.Context) -> Iterator[Session]:
    """Yield a write session of the app store; commit on success; turn flow errors into exits."""
    settings: Settings = ctx.obj
    store = open_app_store(settings)
    try:
        with store.sessions() as session:
            yield session
            session.commit()
    except FlowError as exc:
        _fail(str(exc))
    finally:
        store.engine.dispose()


def _fail(message: str) -> None:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _read_document(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {path}: {exc}") from None


@app.command()
def schema(
    output: Annotated[
        Path | None, typer.Option(help="Write the schema to this file instead of printing it.")
    ] = None,
) -> None:
    """Print the JSON Schema of flow documents (docs/flow.schema.json is this output)."""
    text = flow_json_schema_text()
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


@app.command()
def validate(
    file: Annotated[Path, typer.Argument(help="A flow document, YAML or JSON.")],
) -> None:
    """Check a flow document: its shape, expressions, step ids and order, catalog operations."""
    try:
        document = load_flow(_read_document(file))
    except FlowValidationError as exc:
        _fail(f"{file}: {exc}")
        return
    typer.echo(f"{file}: valid flow {document.name!r} ({len(document.steps)} top-level steps)")


@app.command()
def templates() -> None:
    """List the built-in templates."""
    table = Table("template", "flow", "what it does")
    for info in list_templates():
        table.add_row(info.name, info.title, info.description)
    _console().print(table)


@app.command("install-template")
def install_template(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Template name (see `leadwire flows templates`).")],
    flow_name: Annotated[
        str | None, typer.Option("--name", help="Name of the new flow; default: the template's.")
    ] = None,
) -> None:
    """Create a draft flow from a built-in template, ready to edit and publish."""
    try:
        document = load_template(name)
    except FlowError as exc:
        _fail(str(exc))
        return
    settings: Settings = ctx.obj
    with _session(ctx) as session:
        row = flow_store.create_flow(session, document, open_keyring(settings), name=flow_name)
        flow_id, created = row.id, row.name
    typer.echo(f"created draft flow {created!r} (id {flow_id}) from template {name!r}")
    typer.echo(f"edit:    leadwire flows show {flow_id} > flow.yaml  then  flows save {flow_id}")
    typer.echo(f"publish: leadwire flows publish {flow_id}")


@app.command("list")
def list_command(ctx: typer.Context) -> None:
    """List flows with their latest published version."""
    with _session(ctx) as session:
        flows = flow_store.list_flows(session)
    table = Table("id", "name", "version", "published", "draft")
    for flow in flows:
        table.add_row(
            flow.id,
            flow.name,
            "-" if flow.latest_version is None else str(flow.latest_version),
            flow.published_at.isoformat(timespec="seconds") if flow.published_at else "never",
            "changed" if flow.has_unpublished_changes else "same",
        )
    _console().print(table)


@app.command()
def show(
    ctx: typer.Context,
    flow: FlowRef,
    version: Annotated[
        int | None, typer.Option(help="A published version; default: the draft.")
    ] = None,
) -> None:
    """Print a flow's draft (or a published version) as YAML."""
    with _session(ctx) as session:
        shown = _pick(session, flow, version, draft=version is None)
    typer.echo(dump_flow(shown.document), nl=False)


@app.command()
def save(
    ctx: typer.Context,
    flow: FlowRef,
    file: Annotated[Path, typer.Argument(help="The new draft, YAML or JSON.")],
) -> None:
    """Replace a flow's draft with a document (validated first; versions stay as published)."""
    try:
        document = load_flow(_read_document(file))
    except FlowValidationError as exc:
        _fail(f"{file}: {exc}")
        return
    with _session(ctx) as session:
        row = flow_store.save_draft(session, flow, document)
    typer.echo(f"saved the draft of {row.name!r} (id {row.id}); publish it to run it")


@app.command()
def publish(ctx: typer.Context, flow: FlowRef) -> None:
    """Publish a flow's draft as its next version; runs from now on use it."""
    with _session(ctx) as session:
        published = flow_store.publish(session, flow)
    typer.echo(f"flow {published.flow_id} version {published.version} is published")


@app.command()
def connect(
    ctx: typer.Context,
    flow: FlowRef,
    contacts: Annotated[
        str | None, typer.Option("--contacts", help="CRM connection (id or name) it writes to.")
    ] = None,
    pinterest: Annotated[
        str | None,
        typer.Option("--pinterest", help="Pinterest connection (id or name) it takes leads from."),
    ] = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="Unbind both: use the only connection of each kind.")
    ] = False,
) -> None:
    """Say which connections a flow uses (unbound: the only one of each kind there is)."""
    if clear and (contacts or pinterest):
        _fail("--clear unbinds both: give it alone")
    with _session(ctx) as session:
        ids: dict[str, str | None] = {}
        for option, ref, kind in (
            ("--contacts", contacts, ConnectionKind.CONTACTS),
            ("--pinterest", pinterest, ConnectionKind.PINTEREST),
        ):
            if ref is None:
                ids[option] = None
                continue
            try:
                row = find_row(session, ref)
            except LeadwireError as exc:
                raise typer.BadParameter(str(exc), param_hint=option) from None
            if row.kind != kind.value:
                raise typer.BadParameter(
                    f"{row.name!r} is a {row.kind} connection, not a {kind.value} one",
                    param_hint=option,
                )
            ids[option] = row.id
        bound = flow_store.bind_connections(
            session,
            flow,
            contacts_connection_id=ids["--contacts"],
            pinterest_connection_id=ids["--pinterest"],
            clear=clear,
        )
        contacts_id, pinterest_id = bound.contacts_connection_id, bound.pinterest_connection_id
    typer.echo(
        f"flow {flow}: CRM connection {contacts_id or '(the only one)'}, "
        f"Pinterest connection {pinterest_id or '(any)'}"
    )


@app.command("webhook-secret")
def webhook_secret(ctx: typer.Context, flow: FlowRef) -> None:
    """Print the secret a flow's webhook steps sign with (X-Leadwire-Signature)."""
    settings: Settings = ctx.obj
    with _session(ctx) as session:
        secret = flow_store.webhook_secret(
            flow_store.find_flow(session, flow), open_keyring(settings)
        )
    typer.echo(secret)


def _pick(session: Session, flow: str, version: int | None, *, draft: bool) -> FlowVersion:
    if draft:
        return flow_store.draft_of(flow_store.find_flow(session, flow))
    if version is None:
        latest = flow_store.latest_version(session, flow)
        if latest is None:
            raise FlowError(f"flow {flow!r} has no published version: publish it or use --draft")
        return latest
    return flow_store.get_version(session, flow_store.find_flow(session, flow).id, version)


@app.command("dry-run")
def dry_run(
    ctx: typer.Context,
    flow: FlowRef,
    lead_file: Annotated[
        Path | None, typer.Option(help="A lead as JSON (see docs/flows.md, 'Dry runs').")
    ] = None,
    sample: Annotated[bool, typer.Option(help="Use the built-in sample lead.")] = False,
    version: Annotated[
        int | None, typer.Option(help="A published version; default: the latest.")
    ] = None,
    draft: Annotated[bool, typer.Option(help="Plan with the draft instead.")] = False,
    location_id: Annotated[
        str, typer.Option(help="CRM location id to put in the calls.")
    ] = "{location_id}",
    now: Annotated[
        datetime | None, typer.Option(help="When the run starts (due dates count from it).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the plan as JSON.")] = False,
) -> None:
    """Show the exact CRM calls a flow would make for a lead, without making any."""
    if (lead_file is None) == (not sample):
        raise typer.BadParameter("give --lead-file FILE or --sample (one of them)")
    if lead_file is not None:
        try:
            lead, context = read_lead(parse_data(_read_document(lead_file)))
        except (ValueError, FlowValidationError) as exc:
            raise typer.BadParameter(f"{lead_file}: {exc}") from None
    else:
        lead, context = sample_lead()
    with _session(ctx) as session:
        chosen = _pick(session, flow, version, draft=draft)
    moment = now if now is None or now.tzinfo else now.astimezone()
    result = plan(chosen, lead, context, now=moment, location_id=location_id)
    if as_json:
        typer.echo(json.dumps(result.to_json(), indent=2, ensure_ascii=False))
    else:
        _print_plan(result)


def _print_plan(result: Plan) -> None:
    console = _console()
    version = "draft" if result.version == 0 else f"version {result.version}"
    table = Table(title=f"{result.flow_id} {version}")
    for column in ("#", "step", "call", "method", "path", "body"):
        # Fold, never cut: a dry run must show the exact path and body.
        table.add_column(column, overflow="fold")
    for number, action in enumerate(result.actions, 1):
        if isinstance(action, Wait):
            table.add_row(str(number), action.id, "wait", "", f"{action.seconds} s", "")
            continue
        call = "webhook" if isinstance(action, WebhookCall) else action.operation_id
        if not isinstance(action, WebhookCall) and action.only_if_new_contact:
            call += " (if new contact)"
        where = action.url if isinstance(action, WebhookCall) else action.path
        body = "" if action.body is None else json.dumps(action.body, ensure_ascii=False)
        table.add_row(str(number), action.id, call, action.method, where, body)
    console.print(table)
    for decision in result.decisions:
        name = f" ({decision.rule_name})" if decision.rule_name else ""
        console.print(f"route {decision.step_id}: took {decision.branch}{name}")
    for problem in result.problems:
        marker = "stopped" if problem.stopped else "left out"
        console.print(f"problem in {problem.step_id} ({marker}): {problem.message}")
    reason = f": {result.reason}" if result.reason else ""
    console.print(f"outcome: {result.outcome.value}{reason} — nothing was sent")
