"""Flows: lw_flows, lw_flow_versions.

Revision ID: f10e50000001
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "f10e50000001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("flows",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create lw_flows and lw_flow_versions."""
    op.create_table(
        "lw_flows",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("draft", sa.JSON(), nullable=False),
        sa.Column("webhook_secret", sa.LargeBinary(), nullable=False),
        sa.Column("webhook_secret_key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lw_flows")),
        sa.UniqueConstraint("name", name=op.f("uq_lw_flows_name")),
    )
    with op.batch_alter_table("lw_flows", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_lw_flows_webhook_secret_key_id"), ["webhook_secret_key_id"], unique=False
        )
    op.create_table(
        "lw_flow_versions",
        sa.Column("flow_id", sa.String(length=24), nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("published_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["flow_id"],
            ["lw_flows.id"],
            name=op.f("fk_lw_flow_versions_flow_id_lw_flows"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("flow_id", "version", name=op.f("pk_lw_flow_versions")),
    )


def downgrade() -> None:
    """Drop lw_flow_versions and lw_flows."""
    op.drop_table("lw_flow_versions")
    with op.batch_alter_table("lw_flows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_lw_flows_webhook_secret_key_id"))
    op.drop_table("lw_flows")
