"""A running Pinterest sandbox per backend, and a fresh app, user, account and tokens per test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from leadwire.sandbox import admin
from leadwire.sandbox.admin import DemoHierarchy
from leadwire.sandbox.app import create_app
from leadwire.sandbox.ids import new_id
from leadwire.sandbox.store import SandboxStore, open_store
from leadwire.settings import Settings
from tests.conftest import make_settings
from tests.databases import postgres_database
from tests.servers import running

EXPORT_DELAY_S = 0.3


def sandbox_settings(data_dir: Path, **overrides: object) -> Settings:
    """Return settings for a test sandbox: limits out of the way, exports ready quickly."""
    values: dict[str, object] = {
        "sandbox_rate_read_per_min": 1_000_000,
        "sandbox_rate_write_per_min": 1_000_000,
        "sandbox_export_delay_s": EXPORT_DELAY_S,
    }
    values.update(overrides)
    return make_settings(data_dir, **values)


@dataclass
class SandboxServer:
    """A sandbox serving on a real socket."""

    url: str
    store: SandboxStore
    settings: Settings


@dataclass
class Tenant:
    """A fresh user with an app, an ad account holding the demo hierarchy, and tokens."""

    server: SandboxServer
    app_id: str
    app_secret: str
    user_id: str
    ad_account_id: str
    hierarchy: DemoHierarchy
    token: str
    read_token: str

    @property
    def url(self) -> str:
        """Base URL of the sandbox (without /v5)."""
        return self.server.url

    @property
    def contact_form(self) -> str:
        """Id of the demo form of standard questions (10 of them)."""
        return self.hierarchy.ads[0].lead_form_id

    @property
    def project_form(self) -> str:
        """Id of the demo form with the custom questions."""
        return self.hierarchy.ads[1].lead_form_id

    def client(self, token: str | None = None) -> httpx.Client:
        """Return a client on /v5 that sends this tenant's token (or `token`)."""
        return httpx.Client(
            base_url=f"{self.url}/v5",
            headers={"Authorization": f"Bearer {token or self.token}"},
            timeout=10,
        )


def _start(tmp: Path, url: str | None) -> Iterator[SandboxServer]:
    settings = sandbox_settings(tmp)
    store = open_store(settings, url=url)
    with running(create_app(settings, store=store)) as base:
        yield SandboxServer(base, store, settings)
    store.engine.dispose()


@pytest.fixture(scope="session")
def sandbox_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """The sandbox on a SQLite file."""
    yield from _start(tmp_path_factory.mktemp("sandbox-sqlite"), None)


@pytest.fixture(scope="session")
def sandbox_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxServer]:
    """The sandbox on a fresh PostgreSQL database."""
    with postgres_database() as url:
        yield from _start(tmp_path_factory.mktemp("sandbox-pg"), url)


@pytest.fixture
def sandbox_server(backend: str, request: pytest.FixtureRequest) -> SandboxServer:
    """The running sandbox of this test's backend."""
    server: SandboxServer = request.getfixturevalue(f"sandbox_{backend}")
    return server


def new_tenant(server: SandboxServer, username: str = "tester") -> Tenant:
    """Create a user (a unique name), their app and ad account with the demo hierarchy, tokens."""
    with server.store.sessions() as session:
        user = admin.create_user(session, f"{username}-{new_id()}")
        app = admin.create_app(session, "test app", owner_id=user.id)
        account = admin.create_ad_account(session, user.id, "test ad account")
        hierarchy = admin.create_demo_hierarchy(session, account.id)
        token = admin.issue_token(session, server.settings, app_id=app.id, user_id=user.id)
        read_token = admin.issue_token(
            session, server.settings, app_id=app.id, user_id=user.id, scopes=("ads:read",)
        )
        session.commit()
    return Tenant(
        server,
        app.id,
        app.secret,
        user.id,
        account.id,
        hierarchy,
        token.access_token,
        read_token.access_token,
    )


@pytest.fixture
def tenant(sandbox_server: SandboxServer) -> Tenant:
    """A fresh tenant on this test's sandbox."""
    return new_tenant(sandbox_server)


@pytest.fixture
def api(tenant: Tenant) -> Iterator[httpx.Client]:
    """A /v5 client with the tenant's ads:read + ads:write token."""
    with tenant.client() as client:
        yield client
