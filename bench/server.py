"""The CRM under test: a separate `leadwire crm serve` process on a fresh store.

The store is prepared with the same CLI an operator uses (`crm location create`, `crm key
create`) before the server starts. Every process and database this module creates is removed
when the `crm_process` block exits, whatever happened inside it.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import psycopg

from bench.client import Connection, ConnectionLostError

HOST = "127.0.0.1"
PG_ADMIN_URL = os.environ.get(
    "LEADWIRE_BENCH_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
# High enough that the rate limiter never refuses: the bench measures the server, not the limit.
UNLIMITED = {"LEADWIRE_CRM_RATE_BURST": "1000000000", "LEADWIRE_CRM_RATE_DAILY": "1000000000000"}


@dataclass(frozen=True)
class CrmProcess:
    """A running CRM: where it listens, its pid, and the tenant the bench uses."""

    port: int
    pid: int
    location_id: str
    token: str
    log: Path
    # The PostgreSQL database's name, to account its backends' CPU; None on SQLite.
    database: str | None = None


def leadwire_command() -> str:
    """Return the `leadwire` script next to this interpreter (the project's venv)."""
    beside = Path(sys.executable).with_name("leadwire")
    if beside.exists():
        return str(beside)
    found = shutil.which("leadwire")
    if found is None:
        raise RuntimeError("no `leadwire` command: install the project into .venv first")
    return found


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def postgres_database() -> Iterator[str]:
    """Create a throw-away database; yield its SQLAlchemy URL; drop it after."""
    name = f"leadwire_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_ADMIN_URL)
    url = urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", parts.query, ""))
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cli(env: dict[str, str], workdir: Path, *args: str) -> str:
    done = subprocess.run(
        [leadwire_command(), *args],
        env=env,
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"leadwire {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def _wait_ready(proc: subprocess.Popen[bytes], port: int, log: Path, timeout_s: float) -> None:
    async def probe() -> bool:
        conn = Connection(HOST, port)
        try:
            status, _ = await conn.send(f"GET /health HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
        except ConnectionLostError:
            return False
        finally:
            conn.close()
        return status == 200

    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the CRM exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        if asyncio.run(probe()):
            return
        time.sleep(0.1)
    raise RuntimeError(f"the CRM did not answer within {timeout_s} s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    # The server runs in its own session: signal the whole group so nothing outlives the bench.
    for sig, wait_s in ((signal.SIGINT, 10.0), (signal.SIGKILL, 10.0)):
        if proc.poll() is not None:
            return
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with suppress(subprocess.TimeoutExpired):
            proc.wait(wait_s)


@contextmanager
def crm_process(
    workdir: Path,
    *,
    database_url: str | None,
    sqlite_synchronous: str | None,
    serve_command: list[str] | None = None,
) -> Iterator[CrmProcess]:
    """Prepare a store in `workdir` (or at `database_url`), start the CRM on it, yield it.

    `serve_command` replaces `leadwire crm serve` (it gets `--port N` appended): a way to
    measure a patched server, e.g. to try an optimisation before changing the code.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("LEADWIRE_")}
    env.update(UNLIMITED, LEADWIRE_DATA_DIR=str(workdir / "data"), LEADWIRE_HOST=HOST)
    env["LEADWIRE_LOG_LEVEL"] = "WARNING"
    if database_url is not None:
        env["LEADWIRE_CRM_DATABASE_URL"] = database_url
    if sqlite_synchronous is not None:
        env["LEADWIRE_SQLITE_SYNCHRONOUS"] = sqlite_synchronous
    # The working folder holds no `.env`, so only the variables above configure the server.
    location_id = _cli(env, workdir, "crm", "location", "create", "bench").splitlines()[-1]
    token = _cli(env, workdir, "crm", "key", "create", "--location", location_id)
    token = token.splitlines()[-1].strip()
    port = _free_port()
    log = workdir / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*(serve_command or [leadwire_command(), "crm", "serve"]), "--port", str(port)],
            env=env,
            cwd=workdir,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_ready(proc, port, log, timeout_s=60)
        database = urlsplit(database_url).path.lstrip("/") if database_url else None
        yield CrmProcess(port, proc.pid, location_id.strip(), token, log, database)
    finally:
        _stop(proc)


def process_stats(pid: int) -> dict[str, float]:
    """Return the process's peak and current RSS (MB), CPU time (s, all and kernel), threads."""
    fields: dict[str, str] = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        fields[name] = value.strip()
    stat = Path(f"/proc/{pid}/stat").read_text()
    # Fields after the command name (which may hold spaces) start after the last ')'.
    after = stat[stat.rindex(")") + 2 :].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "peak_rss_mb": round(int(fields["VmHWM"].split()[0]) / 1024, 1),
        "rss_mb": round(int(fields["VmRSS"].split()[0]) / 1024, 1),
        "cpu_s": round((int(after[11]) + int(after[12])) / ticks, 3),
        # Kernel time is mostly SQLite's writes and fsyncs, and the sockets.
        "cpu_system_s": round(int(after[12]) / ticks, 3),
        "threads": int(fields["Threads"]),
    }


def machine_cpu_s() -> dict[str, float]:
    """Return the CPU seconds all cores spent busy, and stolen by the hypervisor, since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    user, nice, system, _idle, _iowait, irq, softirq, steal = values[:8]
    ticks = os.sysconf("SC_CLK_TCK")
    return {
        "busy_s": (user + nice + system + irq + softirq) / ticks,
        "steal_s": steal / ticks,
    }


def postgres_cpu_s(database: str) -> dict[int, float]:
    """Return the CPU seconds used so far by each PostgreSQL backend serving `database`.

    Each backend's process title names its database. A backend that exits takes its count
    with it, so a difference of two readings is a lower bound when connections churn.
    """
    ticks = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            title = (proc / "cmdline").read_bytes()
            if database.encode() not in title or not title.startswith(b"postgres"):
                continue
            stat = (proc / "stat").read_text()
        except OSError:
            continue
        after = stat[stat.rindex(")") + 2 :].split()
        found[int(proc.name)] = (int(after[11]) + int(after[12])) / ticks
    return found


def server_errors(log: Path, limit: int = 60) -> dict[str, Any]:
    """Return the exceptions the server logged (counted by their last line) and the log's tail."""
    lines = log.read_text(errors="replace").splitlines()
    # A traceback ends with `package.module.ErrorName: message`: count those lines, cut short.
    ends = Counter(
        line[:160] for line in lines if _EXCEPTION_LINE.match(line) and not line.startswith(" ")
    )
    return {"exceptions": dict(ends.most_common(10)), "tail": lines[-limit:] if ends else []}


_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(Error|Exception|Timeout)\w*: ")
