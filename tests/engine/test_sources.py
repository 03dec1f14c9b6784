"""Where leads come from: hooks (secret hashed, key sealed) and routing a lead to live flows."""

from __future__ import annotations

import base64
import hashlib
import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from leadwire.cli.flows import app as flows_app
from leadwire.connectors.pinterest.leads import AdAccountId, Lead, LeadFormId, LeadId
from leadwire.engine.connections.model import ConnectionSecrets, ContactsConfig, PinterestConfig
from leadwire.engine.connections.records import add_connection
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.library import load_template
from leadwire.engine.runtime import LeadIntake, RuntimeOptions
from leadwire.engine.secrets import open_keyring
from leadwire.engine.sources import (
    FlowRoutes,
    RoutingError,
    create_hook,
    delivery_key_of,
    find_hook,
    list_hooks,
    remove_hook,
)
from leadwire.errors import DecodeError
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from leadwire.store.models.hooks import PinterestHookRow

KEY = base64.b64encode(os.urandom(32)).decode()


def _lead(account: str = "111", form: str = "222") -> Lead:
    return Lead(
        lead_id=LeadId("9001"),
        ad_account_id=AdAccountId(account),
        lead_form_id=LeadFormId(form),
        created_time=datetime(2026, 11, 1, tzinfo=UTC),
    )


def _crm(app_store: AppStore, settings: Settings, name: str, location: str) -> str:
    with app_store.sessions() as session:
        added = add_connection(
            session,
            open_keyring(settings),
            name=name,
            config=ContactsConfig(base_url="http://127.0.0.1:9", location_id=location),
            values=ConnectionSecrets(api_key="pit-secret"),
        )
        session.commit()
    return added.id


def _flow(app_store: AppStore, settings: Settings, template: str = "new-lead-contact") -> str:
    with app_store.sessions() as session:
        row = flow_store.create_flow(session, load_template(template), open_keyring(settings))
        flow_store.publish(session, row.id)
        session.commit()
        return row.id


def test_a_hook_keeps_its_secret_hashed_and_its_key_sealed(
    app_store: AppStore, app_settings: Settings
) -> None:
    ring = open_keyring(app_settings)
    with app_store.sessions() as session:
        hook, secret = create_hook(session, ring, name="main", delivery_key=KEY)
        session.commit()
    with app_store.read_sessions() as session:
        row = session.scalars(select(PinterestHookRow)).one()
        assert row.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert secret.encode() not in row.delivery_key
        assert KEY.encode() not in row.delivery_key
        found = find_hook(session, secret)
        assert found is not None
        assert found.id == hook.id
        assert delivery_key_of(ring, found) == KEY
        assert find_hook(session, secret[:-1] + ("A" if secret[-1] != "A" else "B")) is None
        assert find_hook(session, "short") is None
        assert [h.name for h in list_hooks(session)] == ["main"]
    with app_store.sessions() as session:
        with pytest.raises(DecodeError, match="subscription key"):
            create_hook(session, ring, name="bad", delivery_key="not-a-key")
        remove_hook(session, "main")
        session.commit()
        assert list_hooks(session) == []


def test_a_lead_runs_through_each_live_flow_with_the_only_crm(
    app_store: AppStore, app_settings: Settings
) -> None:
    routes = FlowRoutes(app_store.read_sessions, ttl_s=0.001)
    assert routes.runs_for(_lead()) == []  # nothing published: nothing runs
    first = _flow(app_store, app_settings)
    with pytest.raises(RoutingError, match="no CRM connection"):
        routes.runs_for(_lead())
    crm = _crm(app_store, app_settings, "crm", "loc-1")
    second = _flow(app_store, app_settings, "lead-tags")
    runs = routes.runs_for(_lead(), "pin-conn")
    assert {r.flow_id for r in runs} == {first, second}
    for run in runs:
        assert run.location_id == "loc-1"
        assert run.payload["contacts_connection_id"] == crm
        assert run.payload["pinterest_connection_id"] == "pin-conn"
        assert run.run_id == f"lead:9001:{run.flow_id}:v1"
    # A second CRM makes the unbound flows ambiguous: the lead is refused, not half-run.
    other = _crm(app_store, app_settings, "crm-2", "loc-2")
    with pytest.raises(RoutingError, match="bind one"):
        routes.runs_for(_lead())
    with app_store.sessions() as session:
        for flow in (first, second):
            flow_store.bind_connections(session, flow, contacts_connection_id=other)
        session.commit()
    assert {r.location_id for r in routes.runs_for(_lead())} == {"loc-2"}


def test_bound_pinterest_connection_and_trigger_filter_leads(
    app_store: AppStore, app_settings: Settings
) -> None:
    _crm(app_store, app_settings, "crm", "loc-1")
    flow = _flow(app_store, app_settings)
    with app_store.sessions() as session:
        flow_store.bind_connections(session, flow, pinterest_connection_id="pin-a")
        session.commit()
    routes = FlowRoutes(app_store.read_sessions, ttl_s=0.001)
    assert len(routes.runs_for(_lead(), "pin-a")) == 1
    assert routes.runs_for(_lead(), "pin-b") == []


def test_flows_connect_binds_by_name_and_checks_the_kind(
    app_store: AppStore, app_settings: Settings
) -> None:
    crm = _crm(app_store, app_settings, "crm", "loc-1")
    flow = _flow(app_store, app_settings)
    with app_store.sessions() as session:
        add_connection(
            session,
            open_keyring(app_settings),
            name="pins",
            config=PinterestConfig(api_base_url="http://127.0.0.1:9/v5", ad_account_id="111"),
            values=ConnectionSecrets(access_token="t"),
        )
        session.commit()
    runner = CliRunner()
    result = runner.invoke(
        flows_app, ["connect", flow, "--contacts", "pins"], obj=app_settings, env={"COLUMNS": "300"}
    )
    assert result.exit_code == 2
    assert "not a contacts one" in result.output
    result = runner.invoke(flows_app, ["connect", flow, "--contacts", "crm"], obj=app_settings)
    assert result.exit_code == 0, result.output
    assert crm in result.output
    result = runner.invoke(flows_app, ["connect", flow, "--clear"], obj=app_settings)
    assert "the only one" in result.output


def test_a_lead_runs_once_per_flow_even_across_republishing(
    app_store: AppStore, app_settings: Settings
) -> None:
    _crm(app_store, app_settings, "crm", "loc-1")
    flow = _flow(app_store, app_settings)
    routes = FlowRoutes(app_store.read_sessions, ttl_s=0.001)
    intake = LeadIntake.open(RuntimeOptions.from_settings(app_settings))
    try:
        report = intake.accept_leads(routes.runs_for(_lead()))
        assert len(report.accepted) == 1
    finally:
        intake.close()
    with app_store.sessions() as session:
        draft = load_template("new-lead-contact").model_copy(update={"description": "v2"})
        flow_store.save_draft(session, flow, draft)
        assert flow_store.publish(session, flow).version == 2
        session.commit()
    # A redelivery after the flow moved to v2 must not run the lead again (a second task).
    (again,) = routes.runs_for(_lead())
    assert again.flow_version == 2
    intake = LeadIntake.open(RuntimeOptions.from_settings(app_settings))
    try:
        assert intake.accept_leads([again]).duplicates == (again.run_id,)
    finally:
        intake.close()
