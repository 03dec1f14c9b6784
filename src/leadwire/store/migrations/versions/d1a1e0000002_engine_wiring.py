"""Engine wiring: Pinterest hooks, flows bound to connections, runs searchable by e-mail.

Also the runs list's index (newest first).

Revision ID: d1a1e0000002
Revises: c0a7e55e0001, f10e50000001, e4a1c0de0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "d1a1e0000002"
down_revision: str | Sequence[str] | None = ("c0a7e55e0001", "f10e50000001", "e4a1c0de0001")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the hooks table, the flows' connection columns and the runs' e-mail column."""
    op.create_table(
        "lw_pinterest_hooks",
        sa.Column("id", sa.String(length=24), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("pinterest_connection_id", sa.String(length=24), nullable=True),
        sa.Column("subscription_id", sa.String(length=64), nullable=True),
        sa.Column("delivery_key", sa.LargeBinary(), nullable=False),
        sa.Column("delivery_key_key_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_delivery_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lw_pinterest_hooks")),
        sa.UniqueConstraint("name", name=op.f("uq_lw_pinterest_hooks_name")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_lw_pinterest_hooks_secret_hash")),
    )
    op.create_index(
        op.f("ix_lw_pinterest_hooks_delivery_key_key_id"),
        "lw_pinterest_hooks",
        ["delivery_key_key_id"],
    )
    with op.batch_alter_table("lw_flows") as batch:
        batch.add_column(sa.Column("pinterest_connection_id", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("contacts_connection_id", sa.String(length=24), nullable=True))
    with op.batch_alter_table("lw_runs") as batch:
        batch.add_column(sa.Column("email", sa.String(length=320), nullable=True))
        batch.create_index(op.f("ix_lw_runs_email"), ["email"])
        batch.create_index("ix_lw_runs_received", ["received_at", "run_id"])


def downgrade() -> None:
    """Drop what upgrade added."""
    with op.batch_alter_table("lw_runs") as batch:
        batch.drop_index("ix_lw_runs_received")
        batch.drop_index(op.f("ix_lw_runs_email"))
        batch.drop_column("email")
    with op.batch_alter_table("lw_flows") as batch:
        batch.drop_column("contacts_connection_id")
        batch.drop_column("pinterest_connection_id")
    op.drop_index(op.f("ix_lw_pinterest_hooks_delivery_key_key_id"), "lw_pinterest_hooks")
    op.drop_table("lw_pinterest_hooks")
