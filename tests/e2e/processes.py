"""`leadwire` commands as real processes for the end-to-end suite: start, wait, kill -9, stop.

Each runs in a session of its own (so a signal to it never reaches the test runner, and its
process group can be ended by its id), writes stdout and stderr to a log file that survives
restarts, and is always ended by the stack's teardown.
"""

from __future__ import annotations

import ctypes
import os
import random
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import httpx

LEADWIRE = str(Path(sys.executable).with_name("leadwire"))
LOG_TAIL_CHARS = 6000
PR_SET_PDEATHSIG = 1  # <sys/prctl.h>
PORTS_FROM, PORTS_TO = 20_000, 32_000


def _die_with_parent() -> None:
    """In the child, before exec: ask Linux to SIGKILL it when the test process dies.

    Teardown ends every process; this covers a test run that is itself killed (a CI timeout),
    which would otherwise leave servers holding ports and database connections.
    """
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
    except OSError:
        return
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port(host: str = "127.0.0.1") -> int:
    """Return a port nothing listens on now, for a child to bind a moment later.

    Chosen below the kernel's ephemeral range (32768 and up on Linux), where bind(0) would
    pick: there the kernel also takes the local ports of outgoing connections, and any of the
    machine's connections could take the port before the child binds it (or, for a server
    restarted on its port, while it is down).
    """
    rng = random.SystemRandom()
    for _ in range(200):
        port = rng.randrange(PORTS_FROM, PORTS_TO)
        with socket.socket() as sock:
            try:
                sock.bind((host, port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {PORTS_FROM}..{PORTS_TO}")


def answers_http(url: str) -> bool:
    """Say whether anything answers HTTP at `url` (any status)."""
    try:
        httpx.get(url, timeout=2.0)
    except httpx.TransportError:
        return False
    return True


class LeadwireProcess:
    """One `leadwire ...` command: started, restarted and ended by the test."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: Mapping[str, str],
        cwd: Path,
        is_ready: Callable[[LeadwireProcess], bool],
        *,
        executor_id: str | None = None,
    ) -> None:
        self.name = name
        self.executor_id = executor_id
        self.args = [LEADWIRE, *args]
        self.env = dict(env)
        self.cwd = cwd
        self.log_path = cwd / f"{name}.log"
        self._is_ready = is_ready
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        """Start the command (again, after a kill), appending to its log."""
        assert self.process is None or self.process.poll() is not None, f"{self.name} runs"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"--- start {self.starts}: {' '.join(self.args[1:])}\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.args,
                cwd=self.cwd,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                # Runs between fork and exec; it takes no lock, so threads here are no risk.
                preexec_fn=_die_with_parent,
            )

    def wait_ready(self, timeout_s: float = 60.0) -> None:
        """Wait until the process says it is ready; fail with its log if it died or hung."""
        deadline = time.monotonic() + timeout_s
        while not self._is_ready(self):
            if not self.is_running():
                raise RuntimeError(f"{self.name} exited before it was ready:\n{self.log_tail()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name} not ready in {timeout_s} s:\n{self.log_tail()}")
            time.sleep(0.1)

    def is_running(self) -> bool:
        """Say whether the process is alive."""
        return self.process is not None and self.process.poll() is None

    def log_text(self) -> str:
        """Return everything the process (in all its lives) wrote."""
        if not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")

    def log_tail(self, chars: int = LOG_TAIL_CHARS) -> str:
        """Return the end of the log."""
        return self.log_text()[-chars:]

    def kill9(self) -> None:
        """SIGKILL the process group: no cleanup of any kind."""
        if self.is_running():
            assert self.process is not None
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM the process group and wait; SIGKILL it if it does not end in time."""
        if not self.is_running():
            return
        assert self.process is not None
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.kill9()
        except ProcessLookupError:
            self.process.wait(timeout=10)


def worker_ready(executor_id: str) -> Callable[[LeadwireProcess], bool]:
    """Return a readiness check: the worker printed that it is ready (since its last start)."""
    marker = f"worker {executor_id} ready"

    def check(process: LeadwireProcess) -> bool:
        last_life = process.log_text().rsplit("--- start ", 1)[-1]
        return marker in last_life

    return check


def http_ready(url: str) -> Callable[[LeadwireProcess], bool]:
    """Return a readiness check: `url` answers HTTP."""
    return lambda _process: answers_http(url)
