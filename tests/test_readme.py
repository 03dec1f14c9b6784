"""The README's quickstart commands are real: the first starts a CRM a new user can curl."""

from __future__ import annotations

import os
import re
import select
import shlex
import signal
import subprocess
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[1]


def quickstart_commands() -> list[str]:
    """Return the commands of the README's quickstart block, comments stripped."""
    text = (ROOT / "README.md").read_text()
    block = re.search(r"## Quickstart.*?```sh\n(.*?)```", text, re.S)
    assert block is not None, "README has no quickstart block"
    return [line.split("#")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def demo_command() -> str:
    """Return the README's `leadwire demo` line, comment stripped."""
    found = re.search(
        r"^(\.venv/bin/leadwire demo [^#\n]*)", (ROOT / "README.md").read_text(), re.M
    )
    assert found is not None, "README shows no `leadwire demo` command"
    return found.group(1).strip()


def test_quickstart_has_two_commands_and_ci_runs_the_second() -> None:
    start, test = quickstart_commands()
    assert start == "./scripts/start"
    assert test == "./scripts/test"
    assert "./scripts/test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.slow
def test_start_command_serves_a_crm_the_printed_key_opens_and_the_demo_lands(
    tmp_path: Path,
) -> None:
    start = quickstart_commands()[0]
    env = {**os.environ, "LEADWIRE_DATA_DIR": str(tmp_path)}
    for name in os.environ:
        if name.startswith("LEADWIRE_") and name.endswith("DATABASE_URL"):
            env.pop(name)
    for name in ("LEADWIRE_CRM_PORT", "LEADWIRE_SANDBOX_PORT", "LEADWIRE_ENGINE_PORT"):
        with socket_port() as port:
            env[name] = str(port)
    proc = subprocess.Popen(
        shlex.split(start),
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        printed = read_until(proc, "try: curl", timeout_s=240)
        key = re.search(r"API key\s+(\S+)", printed)
        location = re.search(r"location id\s+(\S+)", printed)
        url = re.search(r"embedded CRM\s+(\S+)", printed)
        assert key, printed
        assert location, printed
        assert url, printed
        answer = wait_for_answer(
            f"{url.group(1)}/contacts/?locationId={location.group(1)}",
            {"Authorization": f"Bearer {key.group(1)}", "Version": "2021-07-28"},
        )
        assert answer.status_code == 200, answer.text
        assert "contacts" in answer.json()
        # The bar: `leadwire up`, then `leadwire demo --count 200` lands them all —
        # run as the README writes it.
        demo = subprocess.run(
            shlex.split(demo_command()),
            cwd=ROOT,
            env={**env, "COLUMNS": "200"},
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert demo.returncode == 0, demo.stdout + demo.stderr
        assert re.search(r"leads landed \(every run ended\)\s*│\s*200\b", demo.stdout), demo.stdout
        assert re.search(r"contacts\s*│\s*200 \(", demo.stdout), demo.stdout
        assert re.search(r"failures \(inbox\)\s*│\s*0\b", demo.stdout), demo.stdout
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()


class socket_port:  # noqa: N801 - used as a context manager
    """Reserve a free port number and release it for the child to bind."""

    def __enter__(self) -> int:
        import socket

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        port: int = self.sock.getsockname()[1]
        return port

    def __exit__(self, *exc: object) -> None:
        self.sock.close()


def read_until(proc: subprocess.Popen[str], marker: str, *, timeout_s: float) -> str:
    """Read the child's output until a line contains `marker`."""
    assert proc.stdout is not None
    seen: list[str] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        ready, _, _ = select.select([proc.stdout], [], [], 1)
        if ready:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
            if marker in line:
                return "".join(seen)
    raise AssertionError("start command never printed its key:\n" + "".join(seen))


def wait_for_answer(url: str, headers: dict[str, str]) -> httpx.Response:
    """GET `url` until the server answers (it starts just after printing)."""
    deadline = time.monotonic() + 30
    while True:
        try:
            return httpx.get(url, headers=headers, timeout=5)
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
