"""`leadwire connections ...`: add, list, test and remove connections to Pinterest and a CRM.

Secrets never come from the command line (it stays in shell history): API keys and client
secrets are read from an environment variable or asked for with the input hidden; OAuth tokens
come from a file (the JSON the token endpoint answered) or, for Pinterest, from the sandbox.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadwire.engine.connections import (
    Connection,
    ConnectionSecrets,
    ConnectionStatus,
    ContactsAuth,
    ContactsConfig,
    PinterestConfig,
    add_connection,
    check_connection,
    list_connections,
    remove_connection,
    scope_warning,
)
from leadwire.engine.connections.model import CONTACTS_SCOPES, ConnectionConfig
from leadwire.engine.secrets import open_keyring
from leadwire.errors import NotFoundError
from leadwire.settings import Settings
from leadwire.store.app import open_app_store

app = typer.Typer(
    help="Connections to Pinterest and to a CRM's Contacts API (secrets sealed at rest).",
    no_args_is_help=True,
)
console = Console()

API_KEY_ENV = "LEADWIRE_CONTACTS_API_KEY"
CONTACTS_SECRET_ENV = "LEADWIRE_CONTACTS_CLIENT_SECRET"  # noqa: S105 - a variable's name
PINTEREST_SECRET_ENV = "LEADWIRE_PINTEREST_CLIENT_SECRET"  # noqa: S105 - a variable's name


def _settings(ctx: typer.Context) -> Settings:
    settings: Settings = ctx.obj
    return settings


def _secret(ctx: typer.Context, param: str, value: str | None, env: str, prompt: str) -> str:
    """Return a secret from its environment variable or a hidden prompt, never from argv."""
    source = ctx.get_parameter_source(param)
    # Compared by name: typer bundles its own click, whose enum is private.
    if source is not None and source.name == "COMMANDLINE":
        raise typer.BadParameter(
            f"never pass a secret on the command line (it stays in shell history): "
            f"set {env} or type it when asked"
        )
    if value:
        return value
    typed: str = typer.prompt(prompt, hide_input=True)
    if not typed.strip():
        raise typer.BadParameter(f"{prompt} is empty")
    return typed.strip()


class TokenFile:
    """The JSON an OAuth token endpoint answered, saved to a file; expiry counts from its mtime."""

    def __init__(self, path: Path) -> None:
        try:
            body = json.loads(path.read_text())
            self.access_token: str = str(body["access_token"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise typer.BadParameter(f"{path}: not a token response ({exc})") from None
        issued = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        self.refresh_token: str | None = body.get("refresh_token") or None
        expires_in = body.get("expires_in")
        self.expires_at = issued + timedelta(seconds=int(expires_in)) if expires_in else None
        refresh_in = body.get("refresh_token_expires_in")
        self.refresh_expires_at = (
            issued + timedelta(seconds=int(refresh_in)) if refresh_in else None
        )
        self.scopes = frozenset(str(body.get("scope", "")).replace(",", " ").split())


def _default_crm_url(settings: Settings) -> str:
    return settings.crm_public_url or f"http://{settings.host}:{settings.crm_port}"


def _default_sandbox_api(settings: Settings) -> str:
    origin = settings.sandbox_public_url or f"http://{settings.host}:{settings.sandbox_port}"
    return f"{origin.rstrip('/')}/v5"


def _save(
    ctx: typer.Context,
    name: str,
    config: ConnectionConfig,
    values: ConnectionSecrets,
    scopes: Iterable[str],
    tokens: TokenFile | SandboxGrant | None = None,
) -> Connection:
    settings = _settings(ctx)
    store = open_app_store(settings)
    try:
        with store.sessions() as session:
            try:
                connection = add_connection(
                    session,
                    open_keyring(settings),
                    name=name,
                    config=config,
                    values=values,
                    scopes=scopes,
                    access_expires_at=tokens.expires_at if tokens else None,
                    refresh_expires_at=tokens.refresh_expires_at if tokens else None,
                )
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
            session.commit()
    finally:
        store.engine.dispose()
    console.print(f"added connection {connection.name} ({connection.id}); test it with:")
    typer.echo(f"leadwire connections test {connection.name}")
    return connection


@dataclass(frozen=True)
class SandboxGrant:
    """An app, ad account and tokens granted by the local sandbox for one connection."""

    client_id: str
    client_secret: str = field(repr=False)
    ad_account_id: str
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: datetime
    refresh_expires_at: datetime | None
    scopes: tuple[str, ...]


def grant_from_sandbox(settings: Settings, name: str) -> SandboxGrant:
    """Give the sandbox's demo user (and ad account) a new app for this connection, and tokens.

    A new app per connection, not the demo app: `sandbox demo` rotates the demo app's secret,
    which would break a connection holding it.
    """
    from sqlalchemy import select

    from leadwire.sandbox import admin
    from leadwire.sandbox.models import AdAccount, UserAccount
    from leadwire.sandbox.store import open_store

    store = open_store(settings)
    try:
        with store.sessions() as session:
            user = session.scalar(
                select(UserAccount).where(UserAccount.username == admin.DEMO_USERNAME)
            ) or admin.create_user(session, admin.DEMO_USERNAME)
            account = session.scalar(
                select(AdAccount).where(
                    AdAccount.owner_id == user.id, AdAccount.name == admin.DEMO_ACCOUNT_NAME
                )
            )
            if account is None:
                account = admin.create_ad_account(session, user.id, admin.DEMO_ACCOUNT_NAME)
                admin.create_demo_hierarchy(session, account.id)
            issued = admin.create_app(session, f"leadwire connection {name}", owner_id=user.id)
            token = admin.issue_token(
                session,
                settings,
                app_id=issued.id,
                user_id=user.id,
                ttl_s=settings.sandbox_access_token_ttl_s,
            )
            session.commit()
    finally:
        store.engine.dispose()
    return SandboxGrant(
        client_id=issued.id,
        client_secret=issued.secret,
        ad_account_id=account.id,
        access_token=token.access_token,
        refresh_token=token.refresh_token,
        expires_at=token.access_expires_at,
        refresh_expires_at=token.refresh_expires_at,
        scopes=tuple(sorted(token.scope.replace(",", " ").split())),
    )


@app.command("add-contacts")
def add_contacts(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name for the connection.")],
    location: Annotated[str, typer.Option("--location", "-l", help="The CRM location id.")],
    base_url: Annotated[
        str | None, typer.Option(help="The API's base URL (default: the embedded CRM).")
    ] = None,
    scope: Annotated[
        list[str] | None,
        typer.Option(help="A scope the key holds (repeatable; default: both contacts scopes)."),
    ] = None,
    oauth_tokens: Annotated[
        Path | None,
        typer.Option(help="OAuth instead of a key: a file with the /oauth/token JSON answer."),
    ] = None,
    client_id: Annotated[str | None, typer.Option(help="OAuth: the app's client id.")] = None,
    bulk_tags: Annotated[
        bool,
        typer.Option(
            help="Tag the contacts of runs that reach an add-tags step together with one bulk "
            "request (POST /contacts/bulk/tags/update/add)."
        ),
    ] = True,
    api_key: Annotated[str | None, typer.Option(envvar=API_KEY_ENV, hidden=True)] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar=CONTACTS_SECRET_ENV, hidden=True)
    ] = None,
) -> None:
    """Add a CRM connection: an API key / private integration token, or OAuth tokens.

    The API key comes from $LEADWIRE_CONTACTS_API_KEY or a hidden prompt.

    An OAuth client secret comes from $LEADWIRE_CONTACTS_CLIENT_SECRET or a hidden prompt.
    """
    settings = _settings(ctx)
    url = (base_url or _default_crm_url(settings)).rstrip("/")
    if oauth_tokens is None:
        key = _secret(ctx, "api_key", api_key, API_KEY_ENV, "API key")
        config = ContactsConfig(base_url=url, location_id=location, bulk_tags=bulk_tags)
        values = ConnectionSecrets(api_key=key)
        _save(ctx, name, config, values, scope or sorted(CONTACTS_SCOPES))
        return
    if client_id is None:
        raise typer.BadParameter("OAuth needs --client-id (to refresh the tokens)")
    tokens = TokenFile(oauth_tokens)
    secret = _secret(ctx, "client_secret", client_secret, CONTACTS_SECRET_ENV, "Client secret")
    config = ContactsConfig(
        base_url=url,
        location_id=location,
        auth=ContactsAuth.OAUTH,
        client_id=client_id,
        bulk_tags=bulk_tags,
    )
    values = ConnectionSecrets(
        client_secret=secret, access_token=tokens.access_token, refresh_token=tokens.refresh_token
    )
    _save(ctx, name, config, values, scope or sorted(tokens.scopes), tokens)


@app.command("add-pinterest")
def add_pinterest(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="A unique name for the connection.")],
    sandbox: Annotated[
        bool, typer.Option(help="Take an app, ad account and tokens from the local sandbox.")
    ] = False,
    tokens_file: Annotated[
        Path | None, typer.Option(help="A file with the /oauth/token JSON answer.")
    ] = None,
    ad_account: Annotated[str | None, typer.Option(help="The ad account id.")] = None,
    client_id: Annotated[
        str | None, typer.Option(help="The app's client id (needed to refresh).")
    ] = None,
    api_base_url: Annotated[
        str | None, typer.Option(help="Pinterest's API base (default: the local sandbox's /v5).")
    ] = None,
    client_secret: Annotated[
        str | None, typer.Option(envvar=PINTEREST_SECRET_ENV, hidden=True)
    ] = None,
) -> None:
    """Add a Pinterest connection: tokens from a file, or a fresh grant from the sandbox.

    With --client-id, the secret comes from $LEADWIRE_PINTEREST_CLIENT_SECRET or a prompt.
    """
    settings = _settings(ctx)
    base = (api_base_url or _default_sandbox_api(settings)).rstrip("/")
    if sandbox == (tokens_file is not None):
        raise typer.BadParameter("give exactly one of --sandbox and --tokens-file")
    if sandbox:
        grant = grant_from_sandbox(settings, name)
        config = PinterestConfig(
            api_base_url=base, ad_account_id=grant.ad_account_id, client_id=grant.client_id
        )
        values = ConnectionSecrets(
            client_secret=grant.client_secret,
            access_token=grant.access_token,
            refresh_token=grant.refresh_token,
        )
        _save(ctx, name, config, values, grant.scopes, grant)
        return
    assert tokens_file is not None
    if ad_account is None:
        raise typer.BadParameter("--tokens-file needs --ad-account")
    tokens = TokenFile(tokens_file)
    secret = None
    if client_id is not None:
        secret = _secret(ctx, "client_secret", client_secret, PINTEREST_SECRET_ENV, "Client secret")
    config = PinterestConfig(api_base_url=base, ad_account_id=ad_account, client_id=client_id)
    values = ConnectionSecrets(
        client_secret=secret, access_token=tokens.access_token, refresh_token=tokens.refresh_token
    )
    _save(ctx, name, config, values, sorted(tokens.scopes), tokens)


def _since(connection: Connection) -> str:
    when = {
        ConnectionStatus.FAILING: connection.failing_since,
        ConnectionStatus.OK: connection.last_ok_at,
        ConnectionStatus.UNTESTED: connection.created_at,
    }[connection.status]
    return f"{when:%Y-%m-%d %H:%M:%S}Z" if when else ""


@app.command("list")
def list_all(ctx: typer.Context) -> None:
    """List connections: status and since when, why failing, scopes, key id — never secrets."""
    store = open_app_store(_settings(ctx))
    try:
        with store.read_sessions() as session:
            connections = list_connections(session)
    finally:
        store.engine.dispose()
    table = Table()
    for header in ("name / id", "kind", "status", "since", "scopes", "key id"):
        table.add_column(header, overflow="fold")  # ids in full, even on a narrow terminal
    for c in connections:
        scopes = "\n".join(sorted(c.scopes))
        table.add_row(f"{c.name}\n{c.id}", c.kind, c.status, _since(c), scopes, c.key_id)
    console.print(table)
    for c in connections:
        if c.last_error:
            console.print(f"{c.name}: {c.last_error}", style="red", markup=False)
    for c in connections:
        warning = scope_warning(c)
        if warning:
            console.print(f"WARNING: {warning}", style="yellow", markup=False)


@app.command("test")
def test(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The connection's name or id.")],
) -> None:
    """Call the connection's API once and record ok or failing (exit 1 when failing)."""
    settings = _settings(ctx)
    store = open_app_store(settings)
    try:
        result = check_connection(store, open_keyring(settings), name)
    except NotFoundError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.engine.dispose()
    if result.is_ok:
        console.print(f"ok: {result.detail}", markup=False)
        return
    console.print(
        f"failing since {_since(result.connection)}: {result.detail}", style="red", markup=False
    )
    raise typer.Exit(1)


@app.command("remove")
def remove(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="The connection's name or id.")],
) -> None:
    """Remove a connection and its sealed secrets."""
    store = open_app_store(_settings(ctx))
    try:
        removed = remove_connection(store, name)
    except NotFoundError as exc:
        raise typer.BadParameter(str(exc)) from None
    finally:
        store.engine.dispose()
    console.print(f"removed {removed}")
