"""The flow store on SQLite and PostgreSQL: drafts, immutable versions, pinning, the schema."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select, update

from leadwire.engine.flows import FlowError, FlowNotFoundError, FlowValidationError, load_template
from leadwire.engine.flows import store as flows
from leadwire.engine.secrets import KeyRing
from leadwire.store.app import AppStore
from leadwire.store.models.base import AppBase
from leadwire.store.models.flows import FlowRow, FlowVersionRow, ImmutableVersionError


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.from_file(tmp_path / "keys.json")


def test_migrations_make_exactly_the_models_schema_for_flows(app_store: AppStore) -> None:
    with app_store.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"version_table": "lw_alembic_version", "compare_type": True}
        )
        diffs = [
            diff for diff in compare_metadata(context, AppBase.metadata) if "lw_flow" in repr(diff)
        ]
    assert diffs == []
    assert {"lw_flows", "lw_flow_versions"} <= set(AppBase.metadata.tables)


def test_publish_makes_immutable_versions_the_draft_cannot_change(
    app_store: AppStore, ring: KeyRing
) -> None:
    template = load_template("lead-tags")
    with app_store.sessions() as session:
        row = flows.create_flow(session, template, ring)
        first = flows.publish(session, row.id)
        session.commit()
    assert first.version == 1
    assert first.document == template

    edited = template.model_copy(update={"description": "edited after publishing"})
    with app_store.sessions() as session:
        flows.save_draft(session, row.name, edited)
        session.commit()
    with app_store.read_sessions() as session:
        assert flows.get_version(session, row.id, 1).document == template
        assert flows.draft_of(flows.find_flow(session, row.id)).document == edited
        (summary,) = flows.list_flows(session)
    assert (summary.latest_version, summary.has_unpublished_changes) == (1, True)

    with app_store.sessions() as session:
        second = flows.publish(session, row.id)
        again = flows.publish(session, row.id)  # nothing changed: the same version
        session.commit()
    assert (second.version, again.version) == (2, 2)
    assert second.document == edited
    with app_store.read_sessions() as session:
        assert flows.get_version(session, row.id, 1).document == template
        assert flows.latest_version(session, row.name) == second
        (summary,) = flows.list_flows(session)
    assert (summary.latest_version, summary.has_unpublished_changes) == (2, False)


def test_published_versions_refuse_updates_and_deletes(app_store: AppStore, ring: KeyRing) -> None:
    with app_store.sessions() as session:
        row = flows.create_flow(session, load_template("new-lead-contact"), ring)
        flows.publish(session, row.id)
        session.commit()
    with app_store.sessions() as session:
        version = session.scalars(select(FlowVersionRow)).one()
        version.document = {"name": "tampered"}
        with pytest.raises(ImmutableVersionError, match="is published and cannot change"):
            session.flush()
        session.rollback()
        session.delete(session.scalars(select(FlowVersionRow)).one())
        with pytest.raises(ImmutableVersionError, match="cannot be deleted"):
            session.flush()
        session.rollback()
    with app_store.read_sessions() as session:
        assert session.scalars(select(FlowVersionRow.document)).one()["name"] != "tampered"


def test_flows_are_found_by_id_or_name_and_names_are_unique(
    app_store: AppStore, ring: KeyRing
) -> None:
    with app_store.sessions() as session:
        one = flows.create_flow(session, load_template("lead-tags"), ring, name="Tags A")
        two = flows.create_flow(session, load_template("lead-tags"), ring, name="Tags B")
        with pytest.raises(FlowError, match="a flow named 'Tags A' already exists"):
            flows.create_flow(session, load_template("lead-tags"), ring, name="Tags A")
        session.commit()
    with app_store.read_sessions() as session:
        assert flows.find_flow(session, "Tags B").id == two.id
        assert flows.find_flow(session, one.id).name == "Tags A"
        with pytest.raises(FlowNotFoundError):
            flows.find_flow(session, "Tags C")
        with pytest.raises(FlowNotFoundError, match="has no version 3"):
            flows.get_version(session, one.id, 3)
        assert flows.latest_version(session, one.id) is None
        assert [f.name for f in flows.list_flows(session)] == ["Tags A", "Tags B"]


def test_drafts_are_validated_before_they_are_saved(app_store: AppStore, ring: KeyRing) -> None:
    good = load_template("lead-tags")
    broken = good.model_copy(update={"steps": [*good.steps, good.steps[1]]})  # a repeated id
    with app_store.sessions() as session:
        row = flows.create_flow(session, good, ring)
        with pytest.raises(FlowValidationError, match="id 'source-tags' is already used"):
            flows.save_draft(session, row.id, broken)
        session.commit()
    with app_store.sessions() as session:
        session.execute(update(FlowRow).values(draft={"name": "hand-edited", "steps": []}))
        session.commit()
    with app_store.sessions() as session, pytest.raises(FlowValidationError):
        flows.publish(session, row.id)


def test_the_webhook_secret_is_sealed_and_per_flow(app_store: AppStore, ring: KeyRing) -> None:
    with app_store.sessions() as session:
        one = flows.create_flow(session, load_template("lead-tags"), ring, name="A")
        two = flows.create_flow(session, load_template("lead-tags"), ring, name="B")
        session.commit()
    secret_one, secret_two = flows.webhook_secret(one, ring), flows.webhook_secret(two, ring)
    assert secret_one != secret_two
    assert len(secret_one) >= 40
    assert secret_one.encode() not in one.webhook_secret
    assert one.webhook_secret_key_id == ring.active_id
