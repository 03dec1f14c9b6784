"""A lead's Pinterest context: looked up through its connection, cached, degraded when down."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from leadwire.connectors.pinterest.leads import AdAccountId, Lead, LeadFormId, LeadId
from leadwire.crm.store import open_store as open_crm_store
from leadwire.engine.execution import ContextLookup
from leadwire.engine.secrets import open_keyring
from leadwire.sandbox.app import create_app as create_sandbox_app
from leadwire.sandbox.store import open_store as open_sandbox_store
from leadwire.stack.provision import provision
from leadwire.store.app import open_app_store
from tests.conftest import make_settings
from tests.servers import running


def test_names_are_found_then_served_from_the_cache_and_degrade_when_pinterest_is_down(
    tmp_path: Path,
) -> None:
    settings = make_settings(tmp_path)
    app_store, ring = open_app_store(settings), open_keyring(settings)
    crm_store, sandbox_store = open_crm_store(settings), open_sandbox_store(settings)
    lookup = ContextLookup(app_store, ring)
    try:
        with running(create_sandbox_app(settings, store=sandbox_store)) as url:
            demo = provision(
                settings.model_copy(update={"sandbox_public_url": url}),
                app_store,
                ring,
                crm_store,
                sandbox_store,
            )
            world = demo.world
            ad = world.hierarchy.ads[0]
            lead = Lead(
                lead_id=LeadId("1"),
                ad_account_id=AdAccountId(world.ad_account_id),
                lead_form_id=LeadFormId(ad.lead_form_id),
                created_time=datetime(2026, 11, 1, tzinfo=UTC),
                ad_id=ad.ad_id,
                campaign_id=world.hierarchy.campaign_id,
                ad_group_id=world.hierarchy.ad_group_id,
            )
            found = lookup.lookup(demo.pinterest_connection_id, lead)
            assert found.problem is None
            assert found.context.campaign == "Demo lead campaign"
            assert found.context.ad_group == "Demo ad group"
            assert found.context.ad == ad.name
            assert found.context.form
            assert found.context.ad_account
        # Pinterest is gone: what was looked up is still known, for the cache's lifetime...
        again = lookup.lookup(demo.pinterest_connection_id, lead)
        assert again.context == found.context
        assert again.problem is None
        # ...and a lead of an ad not seen yet still goes through, with the reason recorded.
        other = Lead(
            lead_id=LeadId("2"),
            ad_account_id=lead.ad_account_id,
            lead_form_id=lead.lead_form_id,
            created_time=lead.created_time,
            ad_id="999999999",
        )
        degraded = lookup.lookup(demo.pinterest_connection_id, other)
        assert degraded.context.ad is None
        assert degraded.problem is not None
        assert "ad:" in degraded.problem
        assert lookup.lookup(None, lead).problem == "no Pinterest connection to look up names with"
    finally:
        lookup.close()
        for store in (app_store, crm_store, sandbox_store):
            store.engine.dispose()
