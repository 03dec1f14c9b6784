"""A running embedded CRM per backend, and a fresh location with keys for each test."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from leadwire.crm import admin
from leadwire.crm.app import create_app
from leadwire.crm.auth.principal import READ
from leadwire.crm.store import CrmStore, open_store
from tests.conftest import make_settings
from tests.databases import postgres_database
from tests.servers import running

VERSION = {"Version": "2021-07-28"}


@dataclass
class CrmServer:
    """A CRM serving on a real socket."""

    url: str
    store: CrmStore


@dataclass
class Tenant:
    """A fresh location on a running CRM, with a read-write key and a read-only key."""

    server: CrmServer
    location_id: str
    key: str
    read_key: str

    @property
    def url(self) -> str:
        """Base URL of the CRM."""
        return self.server.url

    def client(self, key: str | None = None, *, version: bool = True) -> httpx.Client:
        """Return a client that sends this tenant's key (or `key`) and the Version header."""
        headers = {"Authorization": f"Bearer {key or self.key}"}
        if version:
            headers.update(VERSION)
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


def _start(tmp: Path, url: str | None) -> Iterator[CrmServer]:
    settings = make_settings(tmp)
    store = open_store(settings, url=url)
    with running(create_app(settings, store=store)) as base:
        yield CrmServer(base, store)
    store.engine.dispose()


@pytest.fixture(scope="session")
def crm_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmServer]:
    """The CRM on a SQLite file."""
    tmp = tmp_path_factory.mktemp("crm-sqlite")
    yield from _start(tmp, None)


@pytest.fixture(scope="session")
def crm_postgres(tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmServer]:
    """The CRM on a fresh PostgreSQL database."""
    with postgres_database() as url:
        yield from _start(tmp_path_factory.mktemp("crm-pg"), url)


@pytest.fixture
def crm_server(backend: str, request: pytest.FixtureRequest) -> CrmServer:
    """The running CRM of this test's backend."""
    server: CrmServer = request.getfixturevalue(f"crm_{backend}")
    return server


def new_tenant(server: CrmServer, *, allow_duplicates: bool = False) -> Tenant:
    """Create a location with a read-write and a read-only key."""
    with server.store.sessions() as session:
        location = admin.create_location(session, "test", allow_duplicates=allow_duplicates)
        key = admin.create_api_key(session, location.id, "rw")
        read_key = admin.create_api_key(session, location.id, "ro", (READ,))
        session.commit()
    return Tenant(server, location.id, key.token, read_key.token)


@pytest.fixture
def tenant(crm_server: CrmServer) -> Tenant:
    """A fresh location (duplicates not allowed) on this test's CRM."""
    return new_tenant(crm_server)


@pytest.fixture
def api(tenant: Tenant) -> Iterator[httpx.Client]:
    """A client with the tenant's read-write key and the Version header."""
    with tenant.client() as client:
        yield client
