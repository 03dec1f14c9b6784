"""Sample the server with py-spy while it is under load, and say where its time goes.

    .venv/bin/python -m bench.crm --profile out/ ...     # record one profile per operation
    .venv/bin/python -m bench.profile out/get.txt        # summarise one

py-spy is not a dependency of leadwire: `.venv/bin/pip install py-spy` to use this. Profiles
are py-spy's "raw" (collapsed-stack) format, aggregated per function, and by default hold only
samples of the thread holding the GIL: in a server whose handlers share one GIL, that is the
time that limits throughput.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# "function (path/to/module.py:line)" as py-spy writes a frame.
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
_PACKAGES = (
    "leadwire",
    "sqlalchemy",
    "pydantic",
    "fastapi",
    "starlette",
    "uvicorn",
    "anyio",
    "psycopg",
    "sqlite3",
    "email_validator",
    "phonenumbers",
    "json",
    "asyncio",
    "uvloop",
    "threading",
)


def py_spy() -> str | None:
    """Return the py-spy next to this interpreter or on the PATH, if installed."""
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def start(
    pid: int, out: Path, duration_s: float, *, gil_only: bool = True
) -> subprocess.Popen[bytes]:
    """Start sampling `pid` for `duration_s` into `out`; the caller waits for the process."""
    command = py_spy()
    if command is None:
        raise RuntimeError("py-spy is not installed: .venv/bin/pip install py-spy")
    args = [command, "record", "--pid", str(pid), "--format", "raw", "--function"]
    args += ["--rate", "250", "--duration", str(max(1, round(duration_s))), "--output", str(out)]
    if gil_only:
        args.append("--gil")
    return subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def package_of(frame: str) -> str:
    """Return the library a frame belongs to, or the file name when none of ours matches."""
    match = _FRAME.match(frame)
    path = match.group("file") if match else frame
    for name in _PACKAGES:
        if path.startswith((f"{name}/", f"{name}.py", f"{name}\\")) or f"/{name}/" in path:
            return name
    return path.split("/")[0] or "?"


_SCAFFOLD = ("typer/", "click/", "asyncio/runners.py", "uvicorn/server.py", "uvicorn/_compat.py")


def _is_scaffold(frame: str) -> bool:
    match = _FRAME.match(frame)
    path = match.group("file") if match else ""
    return path.startswith(_SCAFFOLD) or "leadwire/cli/" in path or path == "leadwire"


def summarise(path: Path, top: int = 25) -> str:
    """Return the top functions by self and by inclusive samples, and samples per library."""
    own: Counter[str] = Counter()
    inclusive: Counter[str] = Counter()
    by_package: Counter[str] = Counter()
    total = 0
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = [f for f in stack.split(";") if not f.startswith("process ")]
        frames = [f for f in frames if not f.startswith("thread ")]
        if not frames:
            continue
        total += n
        own[frames[-1]] += n
        by_package[package_of(frames[-1])] += n
        for frame in set(frames):
            inclusive[frame] += n
    if total == 0:
        return f"{path}: no samples"

    def pct(n: int) -> str:
        return f"{100 * n / total:5.1f}%"

    lines = [f"{path}: {total} samples", "", "self time by library:"]
    lines += [f"  {pct(n)}  {name}" for name, n in by_package.most_common(15)]
    lines += ["", f"top {top} functions by self time:"]
    lines += [f"  {pct(n)}  {frame}" for frame, n in own.most_common(top)]
    # The CLI and the server's main loop are under every request: they say nothing.
    informative = [
        (f, n) for f, n in inclusive.most_common() if n < 0.95 * total and not _is_scaffold(f)
    ]
    lines += ["", f"top {top} functions by inclusive time (below the server's main loop):"]
    lines += [f"  {pct(n)}  {frame}" for frame, n in informative[:top]]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Summarise the profiles named on the command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("profiles", nargs="+", type=Path)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args(argv)
    for path in args.profiles:
        print(summarise(path, args.top))
        print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
