"""Fixtures of the engine's tests: settings and an app store per backend, clean for each test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from tests.conftest import make_settings


@pytest.fixture
def app_settings(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """Settings whose app store is this test's backend: a SQLite file, or the session's PG."""
    if backend == "postgres":
        return make_settings(tmp_path, database_url=request.getfixturevalue("pg_url"))
    return make_settings(tmp_path)


@pytest.fixture
def app_store(app_settings: Settings, backend: str) -> Iterator[AppStore]:
    """The app store of `app_settings`, migrated, with every `lw_` table empty."""
    store = open_app_store(app_settings)
    if backend == "postgres":
        # One PostgreSQL database serves the session: empty it instead of making a new one.
        tables = [
            t
            for t in inspect(store.engine).get_table_names()
            if t.startswith("lw_") and t != "lw_alembic_version"
        ]
        if tables:
            with store.engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {', '.join(tables)} CASCADE"))
    yield store
    store.engine.dispose()


# --- The durable runtime's fixtures (helper E4) --------------------------------------------
# The runtime runs in worker PROCESSES (DBOS is a process-wide singleton); this process only
# accepts leads, reads the engine's tables and counts what landed in the CRM.

import os  # noqa: E402
import signal  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass as _dataclass  # noqa: E402
from typing import Any  # noqa: E402

from sqlalchemy import Engine, create_engine, func, select  # noqa: E402

from leadwire.crm import admin as crm_admin  # noqa: E402
from leadwire.crm.app import create_app as create_crm_app  # noqa: E402
from leadwire.crm.models import Contact, ContactTag, Note, Task  # noqa: E402
from leadwire.crm.store import CrmStore, open_store  # noqa: E402
from leadwire.engine.runtime import LeadIntake, RuntimeOptions  # noqa: E402
from tests.databases import postgres_database  # noqa: E402
from tests.engine.test_runtime_proxy import FaultProxy  # noqa: E402
from tests.servers import running  # noqa: E402

_MAIN = Path(__file__).resolve().parents[2]


@_dataclass
class RuntimeTenant:
    """A CRM location the runtime's workers write to, directly or through the fault proxy."""

    store: CrmStore
    direct_url: str
    proxy: FaultProxy
    location_id: str
    key: str

    def counts(self, email: str) -> tuple[int, int, int, int]:
        """Return (contacts, tags, tasks, notes) the CRM holds for the contact with `email`."""
        with self.store.read_sessions() as session:
            ids = session.scalars(
                select(Contact.id).where(
                    Contact.location_id == self.location_id, Contact.email_lower == email
                )
            ).all()

            def count(model: Any) -> int:
                return (
                    session.scalar(
                        select(func.count()).select_from(model).where(model.contact_id.in_(ids))
                    )
                    or 0
                )

            return len(ids), count(ContactTag), count(Task), count(Note)


def crm_location(store: CrmStore, name: str) -> tuple[str, str]:
    """Create a CRM location with a read-write API key; return (location id, key)."""
    with store.sessions() as session:
        location = crm_admin.create_location(session, name)
        key = crm_admin.create_api_key(session, location.id, "rw")
        session.commit()
        return location.id, key.token


@pytest.fixture(scope="session")
def runtime_crm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, CrmStore]]:
    """One embedded CRM (SQLite) for the runtime's tests: the engine's backend is what varies."""
    settings = make_settings(tmp_path_factory.mktemp("runtime-crm"))
    store = open_store(settings)
    with running(create_crm_app(settings, store=store)) as url:
        yield url, store
    store.engine.dispose()


@pytest.fixture(scope="session")
def runtime_crm_url(runtime_crm: tuple[str, CrmStore]) -> str:
    """The CRM's base URL."""
    return runtime_crm[0]


@pytest.fixture(scope="session")
def runtime_tenant(runtime_crm: tuple[str, CrmStore]) -> Iterator[RuntimeTenant]:
    """A location with a read-write key, and the fault proxy in front of its CRM."""
    url, store = runtime_crm
    location_id, key = crm_location(store, "runtime")
    proxy = FaultProxy(url)
    with running(proxy) as proxy_url:
        proxy.url = proxy_url
        yield RuntimeTenant(store, url, proxy, location_id, key)


@pytest.fixture(
    scope="module",
    params=[
        # One xdist group per backend: under `-n 2 --dist loadgroup` the SQLite runs and the
        # PostgreSQL runs go to different test processes, each starting its workers once.
        pytest.param("sqlite", marks=pytest.mark.xdist_group("runtime-sqlite")),
        pytest.param(
            "postgres", marks=[pytest.mark.postgres, pytest.mark.xdist_group("runtime-postgres")]
        ),
    ],
)
def runtime_backend(request: pytest.FixtureRequest) -> str:
    """The engine database's backend; module-scoped so each module starts one worker per backend."""
    value: str = request.param
    return value


@pytest.fixture(scope="module")
def runtime_db(runtime_backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A fresh engine database (app store tables migrated) for this module and backend."""
    tmp = tmp_path_factory.mktemp(f"runtime-{runtime_backend}")
    if runtime_backend == "postgres":
        with postgres_database() as url:
            open_app_store(make_settings(tmp), url=url).engine.dispose()
            yield url
        return
    url = f"sqlite:///{tmp / 'leadwire.db'}"
    open_app_store(make_settings(tmp), url=url).engine.dispose()
    yield url


@pytest.fixture(scope="module")
def runtime_reader(runtime_db: str) -> Iterator[Engine]:
    """A plain engine to read the engine database's tables with."""
    engine = create_engine(runtime_db.replace("postgresql://", "postgresql+psycopg://"))
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def runtime_intake(runtime_db: str) -> Iterator[LeadIntake]:
    """Intake on the engine database, from this (test) process: no DBOS launched here."""
    intake = LeadIntake.open(RuntimeOptions(database_url=runtime_db))
    yield intake
    intake.close()


class WorkerProcess:
    """A worker running `tests.engine.test_runtime_calls` as its own process."""

    def __init__(self, args: list[str], log_path: Path, ready_file: Path) -> None:
        self._args = args
        self._log_path = log_path
        self._ready = ready_file
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0, *, wait: bool = True) -> None:
        """Start the worker and (unless not `wait`) wait until it has launched."""
        self._ready.unlink(missing_ok=True)
        log = self._log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.engine.test_runtime_calls", *self._args],
            cwd=_MAIN,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log.close()
        if wait:
            self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float = 30.0) -> None:
        """Wait until the worker has launched; fail with its log if it died first."""
        assert self.process is not None
        process = self.process
        wait_until(lambda: self._ready.exists() or process.poll() is not None, timeout_s)
        if not self._ready.exists():
            raise RuntimeError(f"worker did not start:\n{self.log()}")

    def kill9(self) -> None:
        """SIGKILL the worker: no cleanup of any kind."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        """SIGTERM the worker and wait for it to exit."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def log(self) -> str:
        """The worker's output so far."""
        return self._log_path.read_text(errors="replace") if self._log_path.exists() else ""


def wait_until(predicate: Callable[[], object], timeout_s: float, interval_s: float = 0.05) -> None:
    """Poll `predicate` until it is true; fail the test after `timeout_s`."""
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout_s} s")
        time.sleep(interval_s)


def start_worker(
    tmp: Path,
    database_url: str,
    tenant: RuntimeTenant,
    *,
    options: str = "{}",
    name: str = "w1",
    wait: bool = True,
) -> WorkerProcess:
    """Start a worker process writing to `tenant`'s CRM through the fault proxy."""
    args = [
        "--database-url",
        database_url,
        "--crm-url",
        tenant.proxy.url,
        "--token",
        tenant.key,
        "--executor-id",
        name,
        "--ready-file",
        str(tmp / f"{name}.ready"),
        "--options",
        options,
    ]
    worker = WorkerProcess(args, tmp / f"{name}.log", tmp / f"{name}.ready")
    worker.start(wait=wait)
    return worker


@pytest.fixture(scope="module")
def runtime_worker(
    runtime_db: str, runtime_tenant: RuntimeTenant, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[WorkerProcess]:
    """One worker for the module and backend (retry window 3 s, backoff 0.2 s to 1 s)."""
    worker = start_worker(tmp_path_factory.mktemp("worker"), runtime_db, runtime_tenant)
    yield worker
    worker.stop()
