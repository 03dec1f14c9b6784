"""Connections: lw_connections.

Revision ID: c0a7e55e0001
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "c0a7e55e0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("connections",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create lw_connections."""
    op.create_table(
        "lw_connections",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("scopes", sa.JSON(), nullable=False),
        sa.Column("secrets", sa.LargeBinary(), nullable=False),
        sa.Column("secrets_key_id", sa.String(length=64), nullable=False),
        sa.Column("access_expires_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("refresh_expires_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("failing_since", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_ok_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("created_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lw_connections")),
        sa.UniqueConstraint("name", name=op.f("uq_lw_connections_name")),
    )
    with op.batch_alter_table("lw_connections", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lw_connections_secrets_key_id"), ["secrets_key_id"], unique=False
        )


def downgrade() -> None:
    """Drop lw_connections."""
    with op.batch_alter_table("lw_connections", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lw_connections_secrets_key_id"))
    op.drop_table("lw_connections")
