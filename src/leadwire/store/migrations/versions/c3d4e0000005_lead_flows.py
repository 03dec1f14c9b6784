"""Lead flows: the (lead, flow) pairs some version of a flow has run, for once-per-flow intake.

Filled from the runs already recorded, so a lead that ran before the upgrade stays run.

Revision ID: c3d4e0000005
Revises: b2c3e0000004
Create Date: 2026-11-30
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "c3d4e0000005"
down_revision: str | Sequence[str] | None = "b2c3e0000004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add lw_lead_flows and fill it from lw_runs."""
    op.create_table(
        "lw_lead_flows",
        sa.Column("lead_id", sa.String(length=128), nullable=False),
        sa.Column("flow_id", sa.String(length=128), nullable=False),
        sa.Column("claimed_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("lead_id", "flow_id", name=op.f("pk_lw_lead_flows")),
    )
    op.execute(
        "INSERT INTO lw_lead_flows (lead_id, flow_id, claimed_at) "
        "SELECT lead_id, flow_id, MIN(received_at) FROM lw_runs GROUP BY lead_id, flow_id"
    )


def downgrade() -> None:
    """Drop what upgrade added."""
    op.drop_table("lw_lead_flows")
