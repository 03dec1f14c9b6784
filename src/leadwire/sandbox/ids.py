"""Ids in Pinterest's shape: strings of digits, higher for newer items.

Pinterest documents ids as `^\\d+$` strings and says that "higher-value IDs are associated with
more-recently added items" (the `order` parameter sorts by id). So an id is the Unix time in
milliseconds (13 digits) followed by 5 random digits: 18 digits, the longest an `ad_account_id`
may be, unguessable enough for a sandbox, and increasing within this process even when two are
minted in the same millisecond. Every id has the same length, so string order is numeric order.
"""

from __future__ import annotations

import re
import secrets
import threading
import time

ID_DIGITS = 18
_RANDOM_DIGITS = 5
# ASCII digits only: `\d` also matches other scripts' digits in Python's and pydantic's regexes.
DIGITS = r"^[0-9]+$"
_ID = re.compile(r"[0-9]{1,18}")
_lock = threading.Lock()
_last = 0


def new_id() -> str:
    """Return a fresh 18-digit id, greater than every id this process minted before."""
    global _last
    candidate = time.time_ns() // 1_000_000 * 10**_RANDOM_DIGITS + secrets.randbelow(
        10**_RANDOM_DIGITS
    )
    with _lock:
        _last = max(candidate, _last + 1)
        value = _last
    return f"{value:0{ID_DIGITS}d}"


def is_id(value: str) -> bool:
    """Tell whether `value` could be an id: 1 to 18 ASCII digits."""
    return _ID.fullmatch(value) is not None


def is_digits(value: str) -> bool:
    """Tell whether `value` is a non-empty string of ASCII digits (any length)."""
    return value.isascii() and value.isdigit()
