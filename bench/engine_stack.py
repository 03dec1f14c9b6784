"""The engine bench's world: a provisioned data folder and `leadwire` commands as processes.

`provision` prepares a fresh data folder in-process with the same functions `leadwire up`
uses (`crm.admin`, `add_connection`, `flows.store`, `create_hook`): a CRM location and API
key, a CRM connection to it, the bench's flow (bench/flows/four-calls.yaml) published, and a
Pinterest hook whose delivery key the bench encrypts deliveries with. The servers then run as
real processes (`leadwire crm serve`, `leadwire serve`, `leadwire worker`, `leadwire up`),
each in a session of its own, optionally pinned to a core with `taskset`, and are always
stopped (their whole process group) when the `running` block exits.
"""

from __future__ import annotations

import base64
import os
import secrets
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench.server import HOST, leadwire_command, machine_cpu_s
from leadwire.crm import admin as crm_admin
from leadwire.crm.store import open_store as open_crm_store
from leadwire.engine.connections.model import ConnectionSecrets, ContactsConfig
from leadwire.engine.connections.records import add_connection
from leadwire.engine.flows import store as flow_store
from leadwire.engine.flows.loading import load_flow
from leadwire.engine.secrets import open_keyring
from leadwire.engine.sources.hooks import HOOK_PATH, create_hook
from leadwire.settings import Settings
from leadwire.store.app import open_app_store

FLOW_FILE = Path(__file__).with_name("flows") / "four-calls.yaml"
CALLS_PER_LEAD = 4
# High enough that neither the CRM's limiter nor the engine's own budget ever binds.
UNLIMITED_BURST = 1_000_000_000


def free_port() -> int:
    """Return a port nothing listens on now (the child binds it a moment later)."""
    import socket

    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def settings_of(values: Mapping[str, str]) -> Settings:
    """Return `values` (names without the LEADWIRE_ prefix) as settings, ignoring any .env."""
    fields: dict[str, Any] = dict(values)
    return Settings(_env_file=None, **fields)


@dataclass(frozen=True)
class Folder:
    """A data folder and the settings every process on it runs with."""

    root: Path
    values: dict[str, str]

    def settings(self) -> Settings:
        """Return the settings every process of this folder runs with."""
        return settings_of(self.values)

    def env(self, **extra: str) -> dict[str, str]:
        """Return a child's environment: this one's minus any LEADWIRE_*, plus the folder's."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("LEADWIRE_")}
        merged = {**self.values, **extra}
        env.update({f"LEADWIRE_{k.upper()}": str(v) for k, v in merged.items()})
        env["PYTHONUNBUFFERED"] = "1"
        return env


@dataclass(frozen=True)
class World(Folder):
    """What `provision` made: where things listen and the secrets the bench needs."""

    location_id: str
    api_key: str
    hook_secret: str
    delivery_key: str
    flow_id: str

    @property
    def crm_port(self) -> int:
        """The CRM's port."""
        return int(self.values["crm_port"])

    @property
    def engine_port(self) -> int:
        """The receiver's port."""
        return int(self.values["engine_port"])

    @property
    def hook_path(self) -> str:
        """The path deliveries are POSTed to."""
        return HOOK_PATH.format(secret=self.hook_secret)


def world_values(root: Path, *, database_url: str | None, **extra: str) -> dict[str, str]:
    """Return the settings of a fresh world in `root` (ports picked now)."""
    values = {
        "data_dir": str(root / "data"),
        "host": HOST,
        "crm_port": str(free_port()),
        "sandbox_port": str(free_port()),
        "engine_port": str(free_port()),
        "log_level": "WARNING",
        **extra,
    }
    if database_url is not None:
        values["database_url"] = database_url
    return values


def provision(
    root: Path,
    values: dict[str, str],
    *,
    crm_url: str | None = None,
    flow_file: Path = FLOW_FILE,
    bulk_tags: bool = True,
    idempotency_keys: bool = True,
) -> World:
    """Prepare the CRM, the app store, the flow and a hook in `root`; return the world.

    `crm_url` is where the engine reaches the CRM (a counting proxy); default: the CRM itself.
    `bulk_tags` is the CRM connection's setting (off: one tags request per lead, as before).
    """
    settings = settings_of(values)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    crm = open_crm_store(settings)
    try:
        with crm.sessions() as session:
            location = crm_admin.create_location(session, "bench")
            issued = crm_admin.create_api_key(session, location.id, "bench")
            session.commit()
    finally:
        crm.engine.dispose()
    ring = open_keyring(settings)
    store = open_app_store(settings)
    delivery_key = base64.b64encode(os.urandom(32)).decode()
    hook_secret = secrets.token_urlsafe(32)
    try:
        with store.sessions() as session:
            add_connection(
                session,
                ring,
                name="bench-crm",
                config=ContactsConfig(
                    base_url=crm_url or f"http://{HOST}:{values['crm_port']}",
                    location_id=location.id,
                    idempotency_keys=idempotency_keys,
                    bulk_tags=bulk_tags,
                ),
                values=ConnectionSecrets(api_key=issued.token),
                scopes=("contacts.readonly", "contacts.write"),
            )
            row = flow_store.create_flow(session, load_flow(flow_file.read_text()), ring)
            flow_store.publish(session, row.id)
            # No Pinterest connection: runs look no names up, so a lead costs its four calls.
            create_hook(session, ring, name="bench", delivery_key=delivery_key, secret=hook_secret)
            session.commit()
            flow_id = row.id
    finally:
        store.engine.dispose()
    return World(root, values, location.id, issued.token, hook_secret, delivery_key, flow_id)


Ready = Callable[["Process"], bool]


@dataclass
class Process:
    """One `leadwire ...` command run by the bench; its log in the world's folder."""

    name: str
    args: Sequence[str]
    env: Mapping[str, str]
    cwd: Path
    is_ready: Ready
    cpus: str | None = None
    # Replaces `leadwire` (the args follow it): to measure a patched server before changing code.
    command: Sequence[str] | None = None
    popen: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        """Where stdout and stderr go."""
        return self.cwd / f"{self.name}.log"

    @property
    def pid(self) -> int:
        """The process id (taskset execs the command: the same pid)."""
        assert self.popen is not None
        return self.popen.pid

    def start(self) -> None:
        """Start the command in its own session."""
        command = [*(self.command or [leadwire_command()]), *self.args]
        if self.cpus is not None:
            command = ["taskset", "-c", self.cpus, *command]
        with self.log_path.open("ab") as log:
            self.popen = subprocess.Popen(
                command,
                cwd=self.cwd,
                env=dict(self.env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def log_text(self) -> str:
        """Everything the process wrote."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def wait_ready(self, timeout_s: float = 90.0) -> None:
        """Wait until the process says it is ready; raise with its log if it died or hung."""
        deadline = time.monotonic() + timeout_s
        while not self.is_ready(self):
            if self.popen is None or self.popen.poll() is not None:
                raise RuntimeError(f"{self.name} exited:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"{self.name} not ready in {timeout_s} s:\n{self.log_text()[-3000:]}"
                )
            time.sleep(0.1)

    def stop(self) -> None:
        """SIGTERM the process group (the servers drain), then SIGKILL if it hangs."""
        if self.popen is None:
            return
        for sig, wait_s in ((signal.SIGTERM, 20.0), (signal.SIGKILL, 10.0)):
            if self.popen.poll() is not None:
                return
            with suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)
            with suppress(subprocess.TimeoutExpired):
                self.popen.wait(wait_s)


def http_ready(url: str) -> Ready:
    """Return a readiness check: `url` answers 200."""

    def check(_process: Process) -> bool:
        try:
            return httpx.get(url, timeout=2.0).status_code == 200
        except httpx.TransportError:
            return False

    return check


def log_ready(marker: str) -> Ready:
    """Return a readiness check: the process printed `marker`."""
    return lambda process: marker in process.log_text()


def crm(world: World, *, cpus: str | None = None, **extra: str) -> Process:
    """`leadwire crm serve` on the world's CRM port."""
    url = f"http://{HOST}:{world.crm_port}/health"
    return Process("crm", ["crm", "serve"], world.env(**extra), world.root, http_ready(url), cpus)


def receiver(world: World, *, cpus: str | None = None, **extra: str) -> Process:
    """`leadwire serve`: the receiver and JSON API, no worker."""
    url = f"http://{HOST}:{world.engine_port}/healthz"
    return Process("receiver", ["serve"], world.env(**extra), world.root, http_ready(url), cpus)


def worker(world: World, *, cpus: str | None = None, name: str = "worker", **extra: str) -> Process:
    """`leadwire worker` with its own executor id."""
    env = world.env(engine_executor_id=f"bench-{name}", **extra)
    ready = log_ready(f"worker bench-{name} ready")
    return Process(name, ["worker"], env, world.root, ready, cpus)


@contextmanager
def running(processes: Sequence[Process]) -> Iterator[Sequence[Process]]:
    """Start `processes` in order, each ready before the next; stop them all on exit."""
    with ExitStack() as stack:
        for process in processes:
            stack.callback(process.stop)
            process.start()
            process.wait_ready()
        yield processes


def restrict_to(cpus: set[int] | None) -> None:
    """Pin this (the load generator's) thread to `cpus`; None: any core."""
    os.sched_setaffinity(0, cpus if cpus is not None else set(range(os.cpu_count() or 1)))


def busy_cores(window_s: float = 1.0) -> float:
    """Return how many cores the whole machine kept busy over the next `window_s`."""
    before = machine_cpu_s()["busy_s"]
    time.sleep(window_s)
    return (machine_cpu_s()["busy_s"] - before) / window_s


def wait_quiet(max_wait_s: float, *, below_cores: float = 0.35) -> float:
    """Wait (up to `max_wait_s`) until the machine is nearly idle; return its busy cores then.

    Other work on a shared machine only ever slows a run down: starting runs in quiet
    moments makes them comparable. The bench's own idle servers count too (a worker polling
    its queue uses about 0.05 core).
    """
    deadline = time.monotonic() + max_wait_s
    busy = busy_cores()
    while busy >= below_cores and time.monotonic() < deadline:
        busy = busy_cores()
    return round(busy, 2)


def python_speed(seconds: float = 0.5) -> int:
    """Return how many times a bare Python loop turns per second on this core right now.

    The same VM runs at very different speeds from one minute to the next (its host is
    shared; this shows as neither steal nor load), so each section records it: numbers taken
    at different speeds are not comparable, ratios taken at the same time are.
    """
    turns = 0
    deadline = time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        turns += 1
    return round(turns / seconds)
