"""The lead-flows migration: every (lead, flow) pair already run is recorded, on both backends."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, insert, select

from leadwire.store.app import alembic_config
from leadwire.store.models.runs import LeadFlowRow, RunRow
from tests.databases import postgres_database

BEFORE = "b2c3e0000004"


@pytest.fixture
def engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """An empty database of `backend`."""
    if backend == "postgres":
        with postgres_database() as url:
            engine = create_engine(url)
            yield engine
            engine.dispose()
        return
    engine = create_engine(f"sqlite:///{tmp_path / 'app.db'}")
    yield engine
    engine.dispose()


def _migrate(engine: Engine, target: str) -> None:
    config = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, target)


def _run(run_id: str, lead_id: str, flow_id: str, version: int, day: int) -> dict[str, object]:
    at = datetime(2026, 11, day, tzinfo=UTC)
    return {
        "run_id": run_id,
        "lead_id": lead_id,
        "flow_id": flow_id,
        "flow_version": version,
        "location_id": "loc-1",
        "status": "succeeded",
        "workflow_id": run_id,
        "attempts": 1,
        "received_at": at,
        "updated_at": at,
        "crm_ids": {},
    }


def test_runs_recorded_before_the_upgrade_keep_their_leads_run(engine: Engine) -> None:
    _migrate(engine, BEFORE)
    with engine.begin() as conn:
        conn.execute(
            insert(RunRow),
            [
                _run("lead:1:f:v1", "1", "f", 1, 3),
                _run("lead:1:f:v2", "1", "f", 2, 5),  # a re-run: one pair, the first date
                _run("lead:1:g:v1", "1", "g", 1, 4),
                _run("lead:2:f:v1", "2", "f", 1, 6),
            ],
        )
    _migrate(engine, "heads")
    with engine.connect() as conn:
        rows = conn.execute(
            select(LeadFlowRow.lead_id, LeadFlowRow.flow_id, LeadFlowRow.claimed_at).order_by(
                LeadFlowRow.lead_id, LeadFlowRow.flow_id
            )
        ).all()
    assert [(lead, flow, at.day) for lead, flow, at in rows] == [
        ("1", "f", 3),
        ("1", "g", 4),
        ("2", "f", 6),
    ]
