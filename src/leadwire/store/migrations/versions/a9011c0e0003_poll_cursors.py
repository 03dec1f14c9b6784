"""Poll cursors: how far the leads exports of each Pinterest ad account have been taken in.

Revision ID: a9011c0e0003
Revises: d1a1e0000002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "a9011c0e0003"
down_revision: str | Sequence[str] | None = "d1a1e0000002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the poll cursors table."""
    op.create_table(
        "lw_poll_cursors",
        sa.Column("connection_id", sa.String(length=24), nullable=False),
        sa.Column("ad_account_id", sa.String(length=32), nullable=False),
        sa.Column("covered_through", sa.Date(), nullable=True),
        sa.Column("high_water_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("window_start", sa.Date(), nullable=True),
        sa.Column("window_end", sa.Date(), nullable=True),
        sa.Column("last_polled_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_ok_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("not_before", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("updated_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("connection_id", "ad_account_id", name=op.f("pk_lw_poll_cursors")),
    )


def downgrade() -> None:
    """Drop the poll cursors table."""
    op.drop_table("lw_poll_cursors")
