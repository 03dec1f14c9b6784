"""The two reference specs the sandbox emulates, as JSON (data identical to the YAML extracts).

Sources: `shared/reference/pinterest-v5-lead-ads.openapi.yaml` and
`pinterest-v5-ads-context.openapi.yaml` (Pinterest's spec 5.23.0, trimmed, MIT). The sandbox
reads closed sets from them (analytics columns) instead of copying long lists into code.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent
LEAD_ADS = HERE / "pinterest-v5-lead-ads.openapi.json"
ADS_CONTEXT = HERE / "pinterest-v5-ads-context.openapi.json"


@cache
def load(path: Path) -> dict[str, Any]:
    """Return one spec as a dict (read once)."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


@cache
def analytics_columns() -> frozenset[str]:
    """Return the `columns` values the analytics operations accept."""
    param = load(ADS_CONTEXT)["components"]["parameters"]["query_columns"]
    return frozenset(param["schema"]["items"]["enum"])
