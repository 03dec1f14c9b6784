"""Markers that let a retried step find the task or note it already created.

The real HighLevel has no `Idempotency-Key`. A step that created a task and then crashed (or
whose answer was lost) would create a second one when retried. So the body of each task and
note we create ends with a marker line, and before creating, the contact's tasks (or notes) are
read and one carrying the marker is returned instead.

The marker format is one line at the very end of the body, after a blank line::

    [leadwire:<marker>]

`<marker>` is 1-100 characters from `A-Z a-z 0-9 . _ : -` (the engine derives it from the lead
id, flow version and step, e.g. `lead-8412:v3:task-1`). A body is recognised by the bracketed
token anywhere in it, so a CRM that reflows or wraps bodies (HTML) still matches. Users see the
line; it is short and says where the item came from.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")

_MARKER = re.compile(r"[A-Za-z0-9._:-]{1,100}")
PREFIX = "leadwire"


def check_marker(marker: str) -> str:
    """Return `marker` if it is usable; ValueError naming the rule if not."""
    if not isinstance(marker, str) or _MARKER.fullmatch(marker) is None:
        raise ValueError("a marker is 1-100 characters from A-Z a-z 0-9 . _ : -")
    return marker


def token(marker: str) -> str:
    """Return the marker line: `[leadwire:<marker>]`."""
    return f"[{PREFIX}:{check_marker(marker)}]"


def with_marker(body: str | None, marker: str) -> str:
    """Return `body` ending with its marker line (once, however often this is applied)."""
    line = token(marker)
    text = (body or "").rstrip()
    if text.endswith(line):
        return text
    return f"{text}\n\n{line}" if text else line


def has_marker(body: str | None, marker: str) -> bool:
    """Tell whether `body` carries `marker`."""
    return body is not None and token(marker) in body


def idempotency_key(kind: str, contact_id: str, marker: str) -> str:
    """Return the Idempotency-Key sent along (the embedded CRM honours it; HighLevel ignores it)."""
    return f"{PREFIX}:{kind}:{contact_id}:{check_marker(marker)}"


@dataclass(frozen=True, slots=True)
class Ensured(Generic[T]):
    """What `ensure_*` returns: the item, and whether this call created it."""

    item: T
    created: bool
