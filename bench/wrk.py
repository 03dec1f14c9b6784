"""An optional throughput cross-check with `wrk`, when it is installed (Debian: `apt install wrk`).

wrk is written in C, so it takes less of the shared CPU than the Python load generator; the
gap between the two numbers shows how much the generator itself costs the server.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

from bench.client import VERSION
from bench.ops import TASK_DUE, seed_email

_LUA_HEAD = """
local ids = {ids}
local seeds = {seeds}
local n = 0
wrk.headers["Authorization"] = "Bearer {token}"
wrk.headers["Version"] = "{version}"
wrk.headers["Content-Type"] = "application/json"
"""

_LUA_OPS = {
    "get": """
request = function()
  return wrk.format("GET", "/contacts/" .. ids[math.random(#ids)])
end
""",
    "upsert": """
request = function()
  n = n + 1
  local email
  if n % 2 == 0 then
    email = "wrk-{tag}-" .. n .. "@bench.example.com"
  else
    email = seeds[math.random(#seeds)]
  end
  local body = '{{"locationId":"{location}","firstName":"Wrk' .. n ..
    '","lastName":"Lead","email":"' .. email .. '","source":"pinterest"}}'
  return wrk.format("POST", "/contacts/upsert", nil, body)
end
""",
    "tags": """
request = function()
  n = n + 1
  local body = '{{"tags":["pinterest-lead","form-' .. (n % 8) .. '"]}}'
  return wrk.format("POST", "/contacts/" .. ids[math.random(#ids)] .. "/tags", nil, body)
end
""",
    "tasks": """
request = function()
  n = n + 1
  local body = '{{"title":"Call lead ' .. n .. '","body":"wrk","dueDate":"{due}",' ..
    '"completed":false}}'
  return wrk.format("POST", "/contacts/" .. ids[math.random(#ids)] .. "/tasks", nil, body)
end
""",
}


def is_available() -> bool:
    """Tell whether `wrk` is on the PATH."""
    return shutil.which("wrk") is not None


def _lua_list(values: list[str]) -> str:
    return "{" + ",".join(json.dumps(v) for v in values) + "}"


def run(
    op: str,
    *,
    port: int,
    token: str,
    location_id: str,
    ids: list[str],
    tag: str,
    connections: int,
    duration_s: float,
    workdir: Path,
) -> dict[str, Any]:
    """Run wrk closed-loop on one operation; return its requests/s and non-2xx count."""
    script = workdir / f"wrk-{op}.lua"
    seeds = [seed_email(k) for k in range(len(ids))]
    head = _LUA_HEAD.format(
        ids=_lua_list(ids), seeds=_lua_list(seeds), token=token, version=VERSION
    )
    script.write_text(head + _LUA_OPS[op].format(tag=tag, location=location_id, due=TASK_DUE))
    done = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{max(1, round(duration_s))}s",
            "--timeout",
            "10s",
            "-s",
            str(script),
            f"http://127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=duration_s + 60,
        check=False,
    )
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "rps": float(rps.group(1)) if rps else None,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
        "connections": connections,
        "ok": done.returncode == 0 and rps is not None,
    }
