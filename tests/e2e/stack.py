"""The whole product as separate processes over real sockets, as a scale-out deployment runs it.

    sandbox ──webhook──► receiver (`leadwire serve`) ──durable runs──► engine database
       ▲                                                                    │
       │ leads submitted by the test                     workers (`leadwire worker`, 1 or 2)
                                                                            │
          embedded CRM (`leadwire crm serve`) ◄── FaultProxy ◄── BodyDelay (this process)

Every process reads the same `LEADWIRE_*` settings and data folder (so the key ring file is
shared). The test process provisions the demo world in-process (`stack.provision`), points the
CRM connection at the fault proxy (`crm_public_url`) and subscribes the sandbox to the receiver,
then only submits leads, injects faults, kills and restarts processes, and reads the stores.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from leadwire.crm.store import CrmStore
from leadwire.crm.store import open_store as open_crm_store
from leadwire.engine.connections.pinterest import open_pinterest_client
from leadwire.engine.secrets import KeyRing, open_keyring
from leadwire.engine.sources.hooks import HOOK_PATH, create_hook, new_secret, remove_hook
from leadwire.sandbox.store import SandboxStore
from leadwire.sandbox.store import open_store as open_sandbox_store
from leadwire.settings import Settings
from leadwire.stack.provision import (
    Demo,
    engine_origin,
    live_flow_count,
    provision,
    subscribe_sandbox,
)
from leadwire.store.app import AppStore, open_app_store
from tests.conftest import make_settings
from tests.e2e.body_delay import BodyDelay
from tests.e2e.processes import LeadwireProcess, free_port, http_ready, worker_ready
from tests.engine.test_runtime_proxy import FaultProxy
from tests.servers import running

HOST = "127.0.0.1"


CRM_TIMEOUT_S = 5.0


def stack_values(root: Path, database_url: str | None, proxy_url: str) -> dict[str, object]:
    """Return the settings every process of the stack runs with.

    Retries and redeliveries are fast (the product's defaults wait seconds to minutes); the
    CRM's and the sandbox's limits are high, so only injected faults slow anything down.
    """
    values: dict[str, object] = {
        "data_dir": root,
        "host": HOST,
        "crm_port": free_port(),
        "sandbox_port": free_port(),
        "engine_port": free_port(),
        "crm_public_url": proxy_url,
        "crm_rate_burst": 100_000,
        "crm_rate_daily": 10_000_000,
        "engine_crm_burst": 10_000,
        "sandbox_rate_read_per_min": 100_000,
        "sandbox_rate_write_per_min": 100_000,
        "sandbox_delivery_max_attempts": 100,
        "sandbox_delivery_backoff_base_s": 0.2,
        "sandbox_delivery_backoff_cap_s": 1.0,
        "engine_retry_base_s": 0.2,
        "engine_retry_cap_s": 2.0,
        # The CRM-hang scenario waits out one timeout: 5 s, not the default 30.
        "engine_crm_timeout_s": CRM_TIMEOUT_S,
        "sqlite_synchronous": "NORMAL",
        "log_level": "INFO",
    }
    if database_url is not None:
        values["database_url"] = database_url
    return values


def environment(values: dict[str, object], **extra: str) -> dict[str, str]:
    """Return the environment of a process: this one's, minus any LEADWIRE_*, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADWIRE_")}
    env.update({f"LEADWIRE_{k.upper()}": str(v) for k, v in values.items()})
    env.update({f"LEADWIRE_{k.upper()}": v for k, v in extra.items()})
    env["PYTHONUNBUFFERED"] = "1"
    return env


@dataclass
class Stack:
    """A running stack and the handles the tests use."""

    backend: str
    root: Path
    settings: Settings
    proxy: FaultProxy
    # In front of the proxy: holds back the calls whose body carries given bytes.
    ordering: BodyDelay
    app_store: AppStore
    crm: CrmStore
    sandbox: SandboxStore
    ring: KeyRing
    demo: Demo
    flows: int
    crm_server: LeadwireProcess
    sandbox_server: LeadwireProcess
    receiver: LeadwireProcess
    workers: list[LeadwireProcess] = field(default_factory=list)

    @property
    def processes(self) -> list[LeadwireProcess]:
        """Every process of the stack."""
        return [self.crm_server, self.sandbox_server, self.receiver, *self.workers]

    @property
    def form_id(self) -> str:
        """The demo lead form the tests submit leads to (the contact form)."""
        return self.demo.world.hierarchy.ads[0].lead_form_id

    def logs(self) -> str:
        """Return the tail of every process's log, for a failure report."""
        return "\n".join(
            f"===== {p.name} (log {p.log_path}) =====\n{p.log_tail()}" for p in self.processes
        )

    def restart(self, process: LeadwireProcess) -> None:
        """Start a killed process again and wait until it is ready."""
        process.start()
        process.wait_ready()

    def add_form_subscription(self, name: str) -> str:
        """Subscribe a second receiver hook to the demo form's leads; return the subscription.

        With the account-level subscription `up` made, every lead of the form is then delivered
        twice: through two URLs, with two keys, each delivery retried on its own.
        """
        secret = new_secret()
        url = engine_origin(self.settings) + HOOK_PATH.format(secret=secret)
        account = self.demo.world.ad_account_id
        with open_pinterest_client(
            self.app_store, self.ring, self.demo.pinterest_connection_id
        ) as client:
            subscription = client.subscriptions.create(account, url, lead_form_id=self.form_id)
        assert subscription.cryptographic_key is not None
        with self.app_store.sessions() as session:
            create_hook(
                session,
                self.ring,
                name=name,
                delivery_key=subscription.cryptographic_key,
                pinterest_connection_id=self.demo.pinterest_connection_id,
                subscription_id=subscription.id,
                secret=secret,
            )
            session.commit()
        return subscription.id

    def remove_form_subscription(self, name: str, subscription_id: str) -> None:
        """Undo `add_form_subscription`."""
        account = self.demo.world.ad_account_id
        with open_pinterest_client(
            self.app_store, self.ring, self.demo.pinterest_connection_id
        ) as client:
            client.subscriptions.delete(account, subscription_id)
        with self.app_store.sessions() as session:
            remove_hook(session, name)
            session.commit()


def _servers(
    settings: Settings, env: dict[str, str], root: Path
) -> tuple[LeadwireProcess, LeadwireProcess, LeadwireProcess]:
    """Return the CRM, the sandbox and the receiver (not started)."""
    crm = f"http://{HOST}:{settings.crm_port}"
    sandbox = f"http://{HOST}:{settings.sandbox_port}"
    return (
        LeadwireProcess("crm", ["crm", "serve"], env, root, http_ready(f"{crm}/health")),
        LeadwireProcess("sandbox", ["sandbox", "serve"], env, root, http_ready(f"{sandbox}/v5/")),
        LeadwireProcess(
            "receiver", ["serve"], env, root, http_ready(f"{engine_origin(settings)}/healthz")
        ),
    )


def _workers(backend: str, values: dict[str, object], root: Path) -> list[LeadwireProcess]:
    # Two workers share the queue on PostgreSQL (scale-out); SQLite is one machine, one worker.
    count = 2 if backend == "postgres" else 1
    found = []
    for n in range(1, count + 1):
        executor_id = f"e2e-worker-{n}"
        env = environment(values, engine_executor_id=executor_id)
        found.append(
            LeadwireProcess(
                f"worker-{n}",
                ["worker"],
                env,
                root,
                worker_ready(executor_id),
                executor_id=executor_id,
            )
        )
    return found


@contextmanager
def running_stack(backend: str, root: Path, database_url: str | None) -> Iterator[Stack]:
    """Start the stack (provisioned, subscribed, every process ready); end every process after."""
    with ExitStack() as cleanup:
        proxy = FaultProxy("")
        ordering = BodyDelay(proxy)
        proxy_url = cleanup.enter_context(running(ordering))
        values = stack_values(root, database_url, proxy_url)
        settings = make_settings(root, **{k: v for k, v in values.items() if k != "data_dir"})
        proxy.upstream = f"http://{HOST}:{settings.crm_port}"
        proxy.url = proxy_url

        app_store = open_app_store(settings)
        cleanup.callback(app_store.engine.dispose)
        crm = open_crm_store(settings)
        cleanup.callback(crm.engine.dispose)
        sandbox = open_sandbox_store(settings)
        cleanup.callback(sandbox.engine.dispose)
        ring = open_keyring(settings)
        demo = provision(settings, app_store, ring, crm, sandbox)

        crm_server, sandbox_server, receiver = _servers(settings, environment(values), root)
        workers = _workers(backend, values, root)
        stack = Stack(
            backend=backend,
            root=root,
            settings=settings,
            proxy=proxy,
            ordering=ordering,
            app_store=app_store,
            crm=crm,
            sandbox=sandbox,
            ring=ring,
            demo=demo,
            flows=live_flow_count(app_store),
            crm_server=crm_server,
            sandbox_server=sandbox_server,
            receiver=receiver,
            workers=workers,
        )
        for process in stack.processes:
            cleanup.callback(process.stop)
        try:
            # The first worker creates DBOS's tables before anything else uses the database.
            for group in ([crm_server, sandbox_server, workers[0]], [receiver, *workers[1:]]):
                for process in group:
                    process.start()
                for process in group:
                    process.wait_ready()
            with open_pinterest_client(app_store, ring, demo.pinterest_connection_id) as client:
                subscribe_sandbox(settings, app_store, ring, demo, client)
        except BaseException:
            print(stack.logs())
            raise
        yield stack


def unique_tag() -> str:
    """Return a short random tag that keeps one stack's people apart from any other's."""
    return secrets.token_hex(3)
