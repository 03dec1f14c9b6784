"""`leadwire keys ...`: the keys that seal stored secrets — how much each seals, and rotation."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from leadwire.engine.secrets import SEALED_COLUMNS, KeyRing, key_usage, open_keyring, rotate
from leadwire.engine.secrets.rotation import DEFAULT_BATCH_SIZE
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store

app = typer.Typer(
    help="Keys that seal stored secrets (AES-256-GCM): what each seals, and online rotation.",
    no_args_is_help=True,
)
console = Console()


def _open(ctx: typer.Context) -> tuple[AppStore, KeyRing]:
    settings: Settings = ctx.obj
    return open_app_store(settings), open_keyring(settings)


def _source(ring: KeyRing) -> str:
    return f"key file {ring.path}" if ring.path is not None else "settings (LEADWIRE_SECRET_KEYS)"


@app.command()
def status(ctx: typer.Context) -> None:
    """Show each key (never its bytes): active or not, and how many stored secrets it seals."""
    store, ring = _open(ctx)
    try:
        usage = key_usage(store, ring, SEALED_COLUMNS)
    finally:
        store.engine.dispose()
    table = Table("key id", "active", "secrets", "state")
    for item in usage:
        state = "held" if item.is_held else "MISSING: its secrets cannot be opened"
        table.add_row(item.key_id, "yes" if item.is_active else "", str(item.secrets), state)
    console.print(f"keys from {_source(ring)}")
    console.print(table)
    if any(not u.is_held for u in usage):
        raise typer.Exit(1)


@app.command("rotate")
def rotate_keys(
    ctx: typer.Context,
    batch_size: Annotated[
        int, typer.Option(min=1, help="Secrets re-sealed per transaction.")
    ] = DEFAULT_BATCH_SIZE,
) -> None:
    """Make a new active key, re-seal every stored secret with it online, retire unused keys.

    Keys from LEADWIRE_SECRET_KEYS: put the new key first there on every machine, then run this.
    """
    store, ring = _open(ctx)
    if ring.path is None:
        console.print(f"re-sealing with the first key of the settings, {ring.active_id}")

    def progress(label: str, done: int) -> None:
        console.print(f"  re-sealed {done} {label} secret(s)")

    try:
        report = rotate(store, ring, SEALED_COLUMNS, batch_size=batch_size, on_batch=progress)
    finally:
        store.engine.dispose()
    if report.new_key_id is not None:
        console.print(f"new active key {report.new_key_id}")
    console.print(f"re-sealed {report.sweep.resealed} secret(s)")
    for key_id in report.retired:
        console.print(f"retired key {key_id} (nothing uses it)")
    for key_id in report.unused:
        console.print(f"key {key_id} seals nothing now: remove it from LEADWIRE_SECRET_KEYS")
    for problem in report.sweep.failed:
        console.print(f"could not re-seal: {problem}", style="red", markup=False)
    if report.sweep.failed:
        raise typer.Exit(1)
