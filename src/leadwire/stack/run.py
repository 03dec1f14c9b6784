"""The three ways leadwire runs: `up` (everything in one process), `serve` and `worker`.

- `up`: embedded CRM, Pinterest sandbox, receiver + JSON API and the engine's worker, on
  127.0.0.1, provisioned for the demo (see provision.py). One process: one event loop for the
  three servers, DBOS's threads for the runs.
- `serve`: receiver + JSON API only (scale-out: any number, behind a load balancer); it accepts
  leads durably and never runs them.
- `worker`: runs leads (any number, on PostgreSQL), prunes old runs, fires schedule flows,
  polls Pinterest's exports.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from leadwire.crm.app import create_app as create_crm_app
from leadwire.crm.store import open_store as open_crm_store
from leadwire.engine.connections.pinterest import open_pinterest_client
from leadwire.engine.execution import FlowExecutor
from leadwire.engine.runtime import LeadIntake, Runtime, RuntimeOptions
from leadwire.engine.runtime.retention import Pruner
from leadwire.engine.runtime.stranded import Sweeper
from leadwire.engine.secrets import KeyRing, open_keyring
from leadwire.engine.sources import FlowRoutes, Poller, PollOptions
from leadwire.engine.sources.schedule import DEFAULT_TICK_S as SCHEDULE_TICK_S
from leadwire.engine.sources.schedule import Scheduler
from leadwire.sandbox.app import create_app as create_sandbox_app
from leadwire.sandbox.store import open_store as open_sandbox_store
from leadwire.settings import Settings
from leadwire.stack.provision import Demo, provision, subscribe_sandbox
from leadwire.stack.servers import Site, serve_all
from leadwire.store.app import AppStore, open_app_store
from leadwire.web.app import create_app as create_web_app
from leadwire.web.services import WebServices
from leadwire.web.tokens import issue_api_token

log = logging.getLogger(__name__)


@dataclass
class Background:
    """The worker's housekeeping threads: pruning, the stranded-segment sweep, the scheduler
    and export polling."""

    stop: threading.Event
    threads: list[threading.Thread]

    def close(self) -> None:
        """Stop the threads and wait for them."""
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=30)


def start_background(
    settings: Settings, app_store: AppStore, ring: KeyRing, intake: LeadIntake, routes: FlowRoutes
) -> Background:
    """Start pruning, the sweep, the scheduler and polling in daemon threads."""
    stop = threading.Event()
    pruner = Pruner.from_settings(settings)
    sweeper = Sweeper(intake.engine, intake.client)
    scheduler = Scheduler(app_store, intake)
    threads = [
        threading.Thread(
            target=pruner.run_forever,
            args=(stop, settings.engine_prune_interval_s),
            name="leadwire-prune",
            daemon=True,
        ),
        threading.Thread(
            target=sweeper.run_forever, args=(stop,), name="leadwire-sweep", daemon=True
        ),
        threading.Thread(
            target=scheduler.run_forever,
            args=(stop, SCHEDULE_TICK_S),
            name="leadwire-schedule",
            daemon=True,
        ),
    ]
    if settings.engine_poll_interval_s > 0:
        options = PollOptions(overlap_days=settings.engine_poll_overlap_days)
        poller = Poller(app_store, ring, intake, routes, options=options)
        threads.append(
            threading.Thread(
                target=poller.run_forever,
                args=(stop, settings.engine_poll_interval_s),
                name="leadwire-poll",
                daemon=True,
            )
        )
    for thread in threads:
        thread.start()
    return Background(stop, threads)


@contextmanager
def engine_runtime(settings: Settings, app_store: AppStore, ring: KeyRing) -> Iterator[Runtime]:
    """Launch this process's worker (DBOS) with the flow executor; stop it on exit."""
    executor = FlowExecutor.from_settings(settings, app_store, ring)
    runtime = Runtime.launch(RuntimeOptions.from_settings(settings), executor)
    try:
        yield runtime
    finally:
        runtime.shutdown(drain_s=10)
        executor.close()


# The embedded CRM's per-location burst under `up` unless LEADWIRE_CRM_RATE_BURST says
# otherwise: HighLevel's 100 per 10 s would make the demo's three flows (about nine calls a
# lead) land at one lead a second; the engine follows whatever limit the CRM's headers state.
UP_CRM_RATE_BURST = 1000


def up_settings(settings: Settings) -> Settings:
    """Return `settings` as `up` runs them: the demo CRM's higher burst unless one is set."""
    if "crm_rate_burst" in settings.model_fields_set:
        return settings
    return settings.model_copy(update={"crm_rate_burst": UP_CRM_RATE_BURST})


def run_up(settings: Settings, *, on_ready: Callable[[Demo], object]) -> None:
    """Provision the demo and run everything until interrupted."""
    settings = up_settings(settings)
    app_store = open_app_store(settings)
    ring = open_keyring(settings)
    crm_store = open_crm_store(settings)
    sandbox_store = open_sandbox_store(settings)
    demo = provision(settings, app_store, ring, crm_store, sandbox_store)
    if settings.api_token is None:
        # Like the CRM key: shown once, so a fresh one each `up` (the old one stops working).
        demo = replace(demo, api_token=issue_api_token(settings))
    with engine_runtime(settings, app_store, ring) as runtime:
        services = WebServices.open(settings, store=app_store, intake=runtime.intake)
        web = create_web_app(services)
        backgrounds: list[Background] = []
        sites = [
            Site(
                "embedded CRM",
                create_crm_app(settings, store=crm_store),
                settings.host,
                settings.crm_port,
            ),
            Site(
                "Pinterest sandbox",
                create_sandbox_app(settings, store=sandbox_store),
                settings.host,
                settings.sandbox_port,
            ),
            Site("receiver and API", web, settings.host, settings.engine_port),
        ]

        def started() -> None:
            with open_pinterest_client(app_store, ring, demo.pinterest_connection_id) as client:
                subscribe_sandbox(settings, app_store, ring, demo, client)
            # Polling needs the sandbox listening: start it only now.
            backgrounds.append(
                start_background(settings, app_store, ring, runtime.intake, services.routes)
            )
            on_ready(demo)

        try:
            asyncio.run(serve_all(sites, log_level=settings.log_level, on_started=started))
        finally:
            for background in backgrounds:
                background.close()
            services.close()


def run_serve(settings: Settings, *, on_ready: Callable[[], object]) -> None:
    """Run the receiver and JSON API only (no worker) until interrupted."""
    services = WebServices.open(settings)
    web = create_web_app(services)
    try:
        asyncio.run(
            serve_all(
                [Site("receiver and API", web, settings.host, settings.engine_port)],
                log_level=settings.log_level,
                on_started=on_ready,
            )
        )
    finally:
        services.close()


def run_worker(settings: Settings, *, on_ready: Callable[[], object]) -> None:
    """Run leads, prune and poll until SIGINT/SIGTERM."""
    import signal

    app_store = open_app_store(settings)
    ring = open_keyring(settings)
    routes = FlowRoutes(app_store.read_sessions)
    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda _s, _f: stop.set())
        for sig in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        with engine_runtime(settings, app_store, ring) as runtime:
            background = start_background(settings, app_store, ring, runtime.intake, routes)
            try:
                on_ready()
                stop.wait()
            finally:
                background.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
