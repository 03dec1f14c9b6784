"""Ids in HighLevel's shape: 20 letters and digits, like Firebase push ids."""

from __future__ import annotations

import re
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
_ID = re.compile(r"[A-Za-z0-9]{20}")


def new_id() -> str:
    """Return a fresh random 20-character id."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(20))


def is_valid_id(value: str) -> bool:
    """Tell whether `value` has the shape of an id this CRM mints."""
    return _ID.fullmatch(value) is not None
