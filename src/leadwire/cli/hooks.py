"""`leadwire hooks`: the receiving URLs Pinterest delivers leads to — add, list, remove.

A hook is `POST /hooks/pinterest/{secret}` with the delivery key of the Pinterest webhook
subscription that posts to it. The URL is printed once, when the hook is added: its secret is
kept only as a hash. The delivery key never comes from the command line (it would stay in
shell history): from a file or an environment variable.

A CRM hook (`add-crm`, `list-crm`, `remove-crm`) is `POST /hooks/crm/{secret}` with the public
key that verifies the CRM's event webhooks: the embedded CRM's by default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text

from leadwire.crm.webhooks.signing import Scheme, load_or_create_keys
from leadwire.engine.connections import ConnectionKind, load_connection
from leadwire.engine.secrets import open_keyring
from leadwire.engine.sources import HOOK_PATH, create_hook, list_hooks, remove_hook
from leadwire.engine.sources.crm_events import (
    CRM_HOOK_PATH,
    create_crm_hook,
    list_crm_hooks,
    remove_crm_hook,
)
from leadwire.errors import BadRequestError, DecodeError, NotFoundError
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store

app = typer.Typer(
    help="Receiving URLs of Pinterest lead deliveries and CRM events (the secret is shown once).",
    no_args_is_help=True,
)


def _console() -> Console:
    # Built per command, so COLUMNS set by the caller (or a test runner) is honoured.
    return Console()


def receiver_url(settings: Settings) -> str:
    """Return the base URL Pinterest reaches the receiver at."""
    if settings.engine_public_url:
        return settings.engine_public_url.rstrip("/")
    return f"http://{settings.host}:{settings.engine_port}"


def hook_url(settings: Settings, secret: str) -> str:
    """Return the URL of the hook with URL secret `secret`."""
    return receiver_url(settings) + HOOK_PATH.format(secret=secret)


def _delivery_key(key_file: Path | None, key_env: str | None) -> str:
    if (key_file is None) == (key_env is None):
        raise typer.BadParameter("give exactly one of --delivery-key-file and --delivery-key-env")
    if key_file is not None:
        try:
            key = key_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise typer.BadParameter(f"cannot read {key_file}: {exc}") from None
    else:
        assert key_env is not None
        key = os.environ.get(key_env, "").strip()
        if not key:
            raise typer.BadParameter(f"${key_env} is not set or empty")
    return key


@contextmanager
def _store(settings: Settings) -> Iterator[AppStore]:
    """Open the app store for one command and release its connections after."""
    store = open_app_store(settings)
    try:
        yield store
    finally:
        store.engine.dispose()


@app.command()
def add(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name for the hook.")],
    delivery_key_file: Annotated[
        Path | None,
        typer.Option(help="A file holding the subscription's cryptographic_key (base64)."),
    ] = None,
    delivery_key_env: Annotated[
        str | None,
        typer.Option(help="An environment variable holding the cryptographic_key."),
    ] = None,
    pinterest: Annotated[
        str | None,
        typer.Option(help="The Pinterest connection (name or id) whose subscription posts here."),
    ] = None,
    subscription_id: Annotated[
        str | None, typer.Option(help="Pinterest's id of the webhook subscription.")
    ] = None,
) -> None:
    """Add a hook and print its URL (shown this once) to give Pinterest's subscription."""
    key = _delivery_key(delivery_key_file, delivery_key_env)
    settings: Settings = ctx.obj
    with _store(settings) as store:
        connection_id = None
        if pinterest is not None:
            try:
                connection = load_connection(store, pinterest)
            except NotFoundError as exc:
                raise typer.BadParameter(str(exc), param_hint="--pinterest") from None
            if connection.kind is not ConnectionKind.PINTEREST:
                message = f"{pinterest!r} is a {connection.kind.value} connection, not Pinterest"
                raise typer.BadParameter(message, param_hint="--pinterest")
            connection_id = connection.id
        with store.sessions() as session:
            try:
                hook, secret = create_hook(
                    session,
                    open_keyring(settings),
                    name=name,
                    delivery_key=key,
                    pinterest_connection_id=connection_id,
                    subscription_id=subscription_id,
                )
            except (DecodeError, BadRequestError) as exc:
                raise typer.BadParameter(str(exc)) from None
            session.commit()
    typer.echo(f"added hook {hook.name} ({hook.id}); its URL, shown only now:")
    typer.echo(hook_url(settings, secret))


@app.command("list")
def list_all(ctx: typer.Context) -> None:
    """List hooks: name, id, Pinterest connection, subscription, last delivery (never the URL)."""
    settings: Settings = ctx.obj
    with _store(settings) as store, store.read_sessions() as session:
        hooks = list_hooks(session)
    console = _console()
    if not hooks:
        console.print("no hooks: add one with `leadwire hooks add NAME --delivery-key-file F`")
        return
    table = Table()
    for header in (
        "name",
        "id",
        "pinterest connection",
        "subscription",
        "created",
        "last delivery",
    ):
        table.add_column(header, overflow="fold")
    for hook in hooks:
        last = f"{hook.last_delivery_at:%Y-%m-%d %H:%M}Z" if hook.last_delivery_at else "never"
        cells = (
            hook.name,
            hook.id,
            hook.pinterest_connection_id or "any",
            hook.subscription_id or "",
            f"{hook.created_at:%Y-%m-%d %H:%M}Z",
            last,
        )
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)


@app.command()
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The hook's name or id.")],
) -> None:
    """Remove a hook: deliveries to its URL are refused (404) within seconds."""
    settings: Settings = ctx.obj
    with _store(settings) as store, store.sessions() as session:
        try:
            hook = remove_hook(session, name)
        except NotFoundError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    typer.echo(f"removed hook {hook.name} ({hook.id})")
    if hook.subscription_id:
        typer.echo(f"delete Pinterest's subscription {hook.subscription_id} too, or its leads 404")


# --- CRM event hooks: `POST /hooks/crm/{secret}` ------------------------------------------


def crm_hook_url(settings: Settings, secret: str) -> str:
    """Return the URL of the CRM hook with URL secret `secret`."""
    return receiver_url(settings) + CRM_HOOK_PATH.format(secret=secret)


def _public_key(settings: Settings, key_file: Path | None) -> str:
    if key_file is None:
        # The embedded CRM's own key (made on its first start, in the same data folder).
        return load_or_create_keys(settings.data_dir).public_pem(Scheme.ED25519)
    try:
        return key_file.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise typer.BadParameter(f"cannot read {key_file}: {exc}") from None


@app.command("add-crm")
def add_crm(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name for the hook.")],
    public_key_file: Annotated[
        Path | None,
        typer.Option(
            help="PEM public key (Ed25519 or RSA) that verifies the CRM's signatures, e.g. "
            "HighLevel's published key; default: the embedded CRM's Ed25519 key."
        ),
    ] = None,
) -> None:
    """Add a CRM event hook and print its URL (shown this once) to subscribe the CRM to."""
    settings: Settings = ctx.obj
    pem = _public_key(settings, public_key_file)
    with _store(settings) as store, store.sessions() as session:
        try:
            hook, secret = create_crm_hook(session, name=name, public_key=pem)
        except BadRequestError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    url = crm_hook_url(settings, secret)
    typer.echo(f"added CRM hook {hook.name} ({hook.id}, {hook.scheme.value} signatures)")
    typer.echo("subscribe the CRM's event webhooks to its URL, e.g. on the embedded CRM:")
    typer.echo("  leadwire crm webhook add --location LOCATION_ID --url URL --event TaskComplete")
    typer.echo("its URL, shown only now:")
    typer.echo(url)


@app.command("list-crm")
def list_crm(ctx: typer.Context) -> None:
    """List CRM event hooks: name, id, signature scheme, last delivery (never the URL)."""
    settings: Settings = ctx.obj
    with _store(settings) as store, store.read_sessions() as session:
        hooks = list_crm_hooks(session)
    console = _console()
    if not hooks:
        console.print("no CRM hooks: add one with `leadwire hooks add-crm NAME`")
        return
    table = Table()
    for header in ("name", "id", "signatures", "created", "last delivery"):
        table.add_column(header, overflow="fold")
    for hook in hooks:
        last = f"{hook.last_delivery_at:%Y-%m-%d %H:%M}Z" if hook.last_delivery_at else "never"
        cells = (
            hook.name,
            hook.id,
            hook.scheme.value,
            f"{hook.created_at:%Y-%m-%d %H:%M}Z",
            last,
        )
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table)


@app.command("remove-crm")
def remove_crm(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The CRM hook's name or id.")],
) -> None:
    """Remove a CRM event hook: events sent to its URL are refused (404) within seconds."""
    settings: Settings = ctx.obj
    with _store(settings) as store, store.sessions() as session:
        try:
            hook = remove_crm_hook(session, name)
        except NotFoundError as exc:
            raise typer.BadParameter(str(exc)) from None
        session.commit()
    typer.echo(f"removed CRM hook {hook.name} ({hook.id}); remove the CRM's subscription too")
