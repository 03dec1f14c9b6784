"""Triggers: CRM event hooks, and the state of schedules.

Revision ID: b2c3e0000004
Revises: a9011c0e0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "b2c3e0000004"
down_revision: str | Sequence[str] | None = "a9011c0e0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the CRM hooks and schedule state tables."""
    op.create_table(
        "lw_crm_hooks",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.Text(), nullable=False),
        sa.Column("scheme", sa.String(length=16), nullable=False),
        sa.Column("created_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_delivery_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lw_crm_hooks")),
        sa.UniqueConstraint("name", name=op.f("uq_lw_crm_hooks_name")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_lw_crm_hooks_secret_hash")),
    )
    op.create_table(
        "lw_schedule_state",
        sa.Column("flow_id", sa.String(length=128), nullable=False),
        sa.Column("last_due_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_run_id", sa.String(length=400), nullable=False),
        sa.Column("updated_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("flow_id", name=op.f("pk_lw_schedule_state")),
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("lw_schedule_state")
    op.drop_table("lw_crm_hooks")
