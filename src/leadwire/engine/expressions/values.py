"""The values expressions work on: plain data only (text, numbers, booleans, dates, lists, maps).

The context an expression reads is built from these types alone, so a name can only ever reach
data leadwire put there, never a Python object's attributes.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import TypeAlias

from pydantic import JsonValue

from leadwire.engine.expressions.errors import EvaluationError

Value: TypeAlias = (
    "bool | int | float | str | datetime | date | list[Value] | Mapping[str, Value] | None"
)
Scope: TypeAlias = Mapping[str, Value]

MAX_TEXT_CHARS = 100_000
MAX_LIST_ITEMS = 1_000


def type_name(value: Value) -> str:
    """Return the name a person knows the value's type by."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, datetime):
        return "date-time"
    if isinstance(value, date):
        return "date"
    if isinstance(value, list):
        return "list"
    return "map"


def is_empty(value: Value) -> bool:
    """Return whether `value` counts as absent: null, empty text or an empty list."""
    return value is None or value == "" or (isinstance(value, list) and not value)


def is_true(value: Value) -> bool:
    """Return the truth of `value`: absent, false and 0 are false; everything else is true."""
    if is_empty(value):
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value != 0
    return not (isinstance(value, Mapping) and not value)


def format_number(value: int | float) -> str:
    """Return a number as text: integers without a fraction, floats without a trailing `.0`."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise EvaluationError(f"{value} is not a finite number")
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))
        return repr(value)
    return str(value)


def iso_datetime(moment: datetime) -> str:
    """Return an aware date-time as ISO-8601 in UTC with milliseconds (the CRM's format)."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def to_text(value: Value) -> str:
    """Return `value` as it reads inside text: null is empty, lists are joined with `, `."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return format_number(value)
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return ", ".join(to_text(item) for item in value)
    return ", ".join(f"{key}: {to_text(item)}" for key, item in value.items())


def checked_text(text: str) -> str:
    """Return `text`, refusing text longer than `MAX_TEXT_CHARS` (bounds every evaluation)."""
    if len(text) > MAX_TEXT_CHARS:
        raise EvaluationError(f"a text grows beyond {MAX_TEXT_CHARS} characters")
    return text


def to_json(value: Value) -> JsonValue:
    """Return `value` as JSON data: dates become ISO-8601 text."""
    if isinstance(value, datetime):
        return iso_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, float) and not math.isfinite(value):
        raise EvaluationError(f"{value} is not a finite number")
    return value
