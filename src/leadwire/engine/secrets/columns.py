"""Every column of sealed secrets in the app store: what `leadwire keys` counts and re-seals.

A part that stores a sealed secret adds its column here, or rotation would leave it behind.
"""

from __future__ import annotations

from leadwire.engine.secrets.rotation import SealedColumn
from leadwire.store.models.connections import ConnectionRow
from leadwire.store.models.flows import FlowRow
from leadwire.store.models.hooks import PinterestHookRow


def _connection_owner(row: ConnectionRow) -> str:
    return row.secrets_owner


def _flow_owner(row: FlowRow) -> str:
    return row.webhook_secret_owner


def _hook_owner(row: PinterestHookRow) -> str:
    return row.delivery_key_owner


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("connections", ConnectionRow, "secrets", "secrets_key_id", _connection_owner),
    SealedColumn(
        "flow webhook secrets", FlowRow, "webhook_secret", "webhook_secret_key_id", _flow_owner
    ),
    SealedColumn(
        "Pinterest hook delivery keys",
        PinterestHookRow,
        "delivery_key",
        "delivery_key_key_id",
        _hook_owner,
    ),
)
