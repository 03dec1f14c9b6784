"""Keyset cursors of run listings: where the last page ended, opaque to callers.

A cursor is the (received_at, run_id) of the last run shown, as URL-safe base64 of JSON. It
holds nothing secret (a run id, a time), so it is not signed; a tampered cursor can only start
a listing at another place, and one that does not parse is refused.
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

_MAX_CURSOR = 1000


class CursorError(ValueError):
    """A cursor this code did not write."""


def encode_cursor(received_at: datetime, run_id: str) -> str:
    """Return the cursor of a listing that continues after this run."""
    raw = json.dumps([received_at.astimezone(UTC).isoformat(), run_id], separators=(",", ":"))
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    """Return the (received_at, run_id) a cursor continues after; `CursorError` if not one."""
    if len(cursor) > _MAX_CURSOR:
        raise CursorError("cursor is too long to be one this API returned")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        at_text, run_id = json.loads(raw)
        at = datetime.fromisoformat(at_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError):
        raise CursorError("cursor is not one this API returned") from None
    if not isinstance(run_id, str) or at.tzinfo is None:
        raise CursorError("cursor is not one this API returned")
    return at, run_id
