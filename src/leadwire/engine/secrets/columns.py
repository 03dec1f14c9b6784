"""Every column of sealed secrets in the app store: what `leadwire keys` counts and re-seals.

A part that stores a sealed secret adds its column here, or rotation would leave it behind.
"""

from __future__ import annotations

from leadwire.engine.secrets.rotation import SealedColumn
from leadwire.store.models.connections import ConnectionRow


def _connection_owner(row: ConnectionRow) -> str:
    return row.secrets_owner


SEALED_COLUMNS: tuple[SealedColumn, ...] = (
    SealedColumn("connections", ConnectionRow, "secrets", "secrets_key_id", _connection_owner),
)
