"""What `leadwire up` sets up on the embedded defaults, idempotently (a second `up` reuses it).

- the embedded CRM's demo location and a fresh API key (the previous `up` key is revoked);
- the Pinterest sandbox's demo user, app, ad account, campaign → ad group → lead ads → forms,
  and a fresh long-lived token;
- in the app store: a CRM connection and a Pinterest connection holding those secrets (sealed),
  and the three built-in templates installed and published;
- once the servers listen: a sandbox webhook subscription of the demo ad account pointing at a
  receiver hook (made through the Pinterest API, as a user's subscription would be).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.crm import admin as crm_admin
from leadwire.crm.seed import seed_demo
from leadwire.crm.store import CrmStore
from leadwire.engine.connections.model import (
    ConnectionSecrets,
    ContactsConfig,
    PinterestConfig,
)
from leadwire.engine.connections.records import add_connection, find_row, seal_secrets
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.library import load_template, template_names
from leadwire.engine.secrets import KeyRing
from leadwire.engine.sources.hooks import HOOK_PATH, create_hook, new_secret, remove_hook
from leadwire.engine.sources.routing import load_live_flows
from leadwire.sandbox import admin as sandbox_admin
from leadwire.sandbox.admin import DemoWorld
from leadwire.sandbox.store import SandboxStore
from leadwire.settings import Settings
from leadwire.store.app import AppStore
from leadwire.store.models.connections import ConnectionRow
from leadwire.store.models.flows import FlowRow
from leadwire.store.models.hooks import PinterestHookRow

CRM_CONNECTION = "embedded-crm"
PINTEREST_CONNECTION = "pinterest-sandbox"
HOOK_NAME = "pinterest-sandbox"


@dataclass(frozen=True)
class Demo:
    """What `up` prints and `demo` uses (the API key is shown once per `up`)."""

    crm_url: str
    location_id: str
    api_key: str
    sandbox_url: str
    world: DemoWorld
    contacts_connection_id: str
    pinterest_connection_id: str
    flows: tuple[tuple[str, int], ...]
    # The JSON API's bearer token, when `up` issued one (None: LEADWIRE_API_TOKEN is set).
    api_token: str | None = None


def crm_origin(settings: Settings) -> str:
    """Return the embedded CRM's base URL."""
    return settings.crm_public_url or f"http://{settings.host}:{settings.crm_port}"


def sandbox_origin(settings: Settings) -> str:
    """Return the sandbox's base URL (the Pinterest API is under `/v5`)."""
    return settings.sandbox_public_url or f"http://{settings.host}:{settings.sandbox_port}"


def engine_origin(settings: Settings) -> str:
    """Return the receiver's and the JSON API's base URL (as Pinterest reaches it)."""
    return settings.engine_public_url or f"http://{settings.host}:{settings.engine_port}"


def provision(
    settings: Settings, app_store: AppStore, ring: KeyRing, crm: CrmStore, sandbox: SandboxStore
) -> Demo:
    """Set up (or refresh) the demo location, ad account, connections and flows."""
    with crm.sessions() as session:
        location, is_new = crm_admin.demo_location(session)
        if is_new:
            seed_demo(session, location.id, contacts=10, rng=random.Random(7))
        issued = crm_admin.rotate_up_key(session, location.id)
        session.commit()
    with sandbox.sessions() as session:
        world = sandbox_admin.demo_world(session, settings)
        session.commit()
    with app_store.sessions() as session:
        contacts_id = _upsert_connection(
            session,
            ring,
            name=CRM_CONNECTION,
            config=ContactsConfig(
                base_url=crm_origin(settings), location_id=location.id, idempotency_keys=True
            ),
            values=ConnectionSecrets(api_key=issued.token),
            scopes=("contacts.readonly", "contacts.write"),
        )
        token = world.token
        pinterest_id = _upsert_connection(
            session,
            ring,
            name=PINTEREST_CONNECTION,
            config=PinterestConfig(
                api_base_url=f"{sandbox_origin(settings)}/v5",
                authorize_page_url=f"{sandbox_origin(settings)}/oauth/",
                ad_account_id=world.ad_account_id,
                client_id=world.app.id,
            ),
            values=ConnectionSecrets(
                client_secret=world.app.secret,
                access_token=token.access_token,
                refresh_token=token.refresh_token,
            ),
            scopes=token.scope.split(","),
            access_expires_at=token.access_expires_at,
            refresh_expires_at=token.refresh_expires_at,
        )
        flows = tuple(_publish_templates(session, ring))
        session.commit()
    return Demo(
        crm_url=crm_origin(settings),
        location_id=location.id,
        api_key=issued.token,
        sandbox_url=sandbox_origin(settings),
        world=world,
        contacts_connection_id=contacts_id,
        pinterest_connection_id=pinterest_id,
        flows=flows,
    )


def _upsert_connection(
    session: Session,
    ring: KeyRing,
    *,
    name: str,
    config: ContactsConfig | PinterestConfig,
    values: ConnectionSecrets,
    scopes: Sequence[str],
    access_expires_at: datetime | None = None,
    refresh_expires_at: datetime | None = None,
) -> str:
    """Add the connection, or give the existing one of that name these settings and secrets."""
    row = session.scalars(select(ConnectionRow).where(ConnectionRow.name == name)).first()
    if row is None:
        added = add_connection(
            session,
            ring,
            name=name,
            config=config,
            values=values,
            scopes=scopes,
            access_expires_at=access_expires_at,
            refresh_expires_at=refresh_expires_at,
        )
        return added.id
    row = find_row(session, row.id, for_update=True)
    row.config = config.model_dump(mode="json")
    row.scopes = sorted(set(scopes))
    row.access_expires_at = access_expires_at
    row.refresh_expires_at = refresh_expires_at
    seal_secrets(ring, row, values)
    return row.id


def _publish_templates(session: Session, ring: KeyRing) -> list[tuple[str, int]]:
    """Install and publish each built-in template not installed yet (by its name)."""
    published = []
    for name in template_names():
        document = load_template(name)
        row = session.scalars(select(FlowRow).where(FlowRow.name == document.name)).first()
        if row is None:
            row = flow_store.create_flow(session, document, ring)
            version = flow_store.publish(session, row.id)
        else:
            version = flow_store.latest_version(session, row.id) or flow_store.publish(
                session, row.id
            )
        published.append((row.name, version.version))
    return published


def live_flow_count(app_store: AppStore) -> int:
    """Return how many flows run for each demo lead (those `up` publishes, and any others)."""
    with app_store.read_sessions() as session:
        return len(load_live_flows(session))


def subscribe_sandbox(
    settings: Settings, app_store: AppStore, ring: KeyRing, demo: Demo, client: PinterestClient
) -> str:
    """Point a sandbox webhook subscription of the demo ad account at a receiver hook.

    Kept across `up`s while the subscription still exists; else made anew (the URL secret is
    stored only hashed, so a lost subscription cannot be re-pointed at the old URL).
    """
    account = demo.world.ad_account_id
    with app_store.read_sessions() as session:
        hook = session.scalars(
            select(PinterestHookRow).where(PinterestHookRow.name == HOOK_NAME)
        ).first()
        subscription_id = hook.subscription_id if hook is not None else None
    existing = {s.id for s in client.subscriptions.list_all(account)}
    if subscription_id is not None and subscription_id in existing:
        return subscription_id
    secret = new_secret()
    url = engine_origin(settings) + HOOK_PATH.format(secret=secret)
    subscription = client.subscriptions.create(account, webhook_url=url)
    key = subscription.cryptographic_key
    if key is None:
        raise RuntimeError("the sandbox made a subscription without a key")
    with app_store.sessions() as session:
        if hook is not None:
            remove_hook(session, HOOK_NAME)
            session.flush()
        create_hook(
            session,
            ring,
            name=HOOK_NAME,
            delivery_key=key,
            pinterest_connection_id=demo.pinterest_connection_id,
            subscription_id=subscription.id,
            secret=secret,
        )
        session.commit()
    return subscription.id
