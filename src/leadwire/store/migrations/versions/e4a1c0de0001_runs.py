"""Runs: lw_runs, lw_run_steps, lw_inbox.

Revision ID: e4a1c0de0001
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import leadwire.store.types

revision: str = "e4a1c0de0001"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = ("runs",)
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create the run, run-step and inbox tables."""
    op.create_table(
        "lw_runs",
        sa.Column("run_id", sa.String(length=400), nullable=False),
        sa.Column("lead_id", sa.String(length=128), nullable=False),
        sa.Column("flow_id", sa.String(length=128), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("workflow_id", sa.String(length=440), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("received_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("updated_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("finished_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("next_attempt_at", leadwire.store.types.UTCDateTime(), nullable=True),
        sa.Column("error_type", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("crm_ids", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_lw_runs")),
    )
    with op.batch_alter_table("lw_runs", schema=None) as batch_op:
        batch_op.create_index("ix_lw_runs_flow", ["flow_id", "flow_version"], unique=False)
        batch_op.create_index(batch_op.f("ix_lw_runs_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index("ix_lw_runs_status_updated", ["status", "updated_at"], unique=False)

    op.create_table(
        "lw_inbox",
        sa.Column("run_id", sa.String(length=400), nullable=False),
        sa.Column("lead_id", sa.String(length=128), nullable=False),
        sa.Column("flow_id", sa.String(length=128), nullable=False),
        sa.Column("flow_version", sa.Integer(), nullable=False),
        sa.Column("location_id", sa.String(length=64), nullable=False),
        sa.Column("failed_step", sa.String(length=128), nullable=False),
        sa.Column("step_position", sa.Integer(), nullable=False),
        sa.Column("error_type", sa.String(length=128), nullable=False),
        sa.Column("error_message", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("first_failed_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("last_failed_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("workflow_id", sa.String(length=440), nullable=False),
        sa.Column("function_id", sa.Integer(), nullable=False),
        sa.Column("replays", sa.Integer(), nullable=False),
        sa.Column("updated_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["lw_runs.run_id"],
            name=op.f("fk_lw_inbox_run_id_lw_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", name=op.f("pk_lw_inbox")),
    )
    with op.batch_alter_table("lw_inbox", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lw_inbox_lead_id"), ["lead_id"], unique=False)
        batch_op.create_index(
            "ix_lw_inbox_status_flow", ["status", "flow_id", "flow_version"], unique=False
        )

    op.create_table(
        "lw_run_steps",
        sa.Column("run_id", sa.String(length=400), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("step_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("outputs", sa.JSON(), nullable=False),
        sa.Column("crm_ids", sa.JSON(), nullable=False),
        sa.Column("error_type", sa.String(length=128), nullable=True),
        sa.Column("error_message", sa.Text(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("duration_ms", sa.Integer(), nullable=False),
        sa.Column("started_at", leadwire.store.types.UTCDateTime(), nullable=False),
        sa.Column("workflow_id", sa.String(length=440), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["lw_runs.run_id"],
            name=op.f("fk_lw_run_steps_run_id_lw_runs"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "position", name=op.f("pk_lw_run_steps")),
    )


def downgrade() -> None:
    """Drop the run, run-step and inbox tables."""
    op.drop_table("lw_run_steps")
    with op.batch_alter_table("lw_inbox", schema=None) as batch_op:
        batch_op.drop_index("ix_lw_inbox_status_flow")
        batch_op.drop_index(batch_op.f("ix_lw_inbox_lead_id"))
    op.drop_table("lw_inbox")
    with op.batch_alter_table("lw_runs", schema=None) as batch_op:
        batch_op.drop_index("ix_lw_runs_status_updated")
        batch_op.drop_index(batch_op.f("ix_lw_runs_lead_id"))
        batch_op.drop_index("ix_lw_runs_flow")
    op.drop_table("lw_runs")
