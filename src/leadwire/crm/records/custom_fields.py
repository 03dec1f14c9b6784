"""Custom field values on contacts: found by id or key, checked against the field's data type.

Values are stored on the contact keyed by field id (`Contact.custom_fields`); `None` from
`resolve_custom_fields` means "clear this field" (the client sent null, "" or []).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError
from leadwire.crm.models import CustomField
from leadwire.crm.wire.contacts import CustomFieldInput, parse_date_of_birth
from leadwire.crm.wire.dates import parse_iso_datetime

NUMBERS = frozenset({"NUMERICAL", "MONETORY", "MONETARY"})
LISTS = frozenset({"CHECKBOX", "MULTIPLE_OPTIONS"})
ONE_OF = frozenset({"SINGLE_OPTIONS", "RADIO"})
TEXTS = frozenset({"TEXT", "LARGE_TEXT", "PHONE", "EMAIL", "TEXTBOX_LIST"})


def _number(value: Any) -> int | float:
    if isinstance(value, bool):
        raise ValueError("must be a number")
    if isinstance(value, int | float):
        number: int | float = value
    elif isinstance(value, str):
        try:
            number = int(value) if value.strip().lstrip("+-").isdigit() else float(value)
        except ValueError:
            raise ValueError("must be a number") from None
    else:
        raise ValueError("must be a number")
    if isinstance(number, float) and not math.isfinite(number):
        raise ValueError("must be a finite number")
    return number


def _option(value: Any, options: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise ValueError("must be a string (one of its options)")
    if not options:
        return value
    # Options are labels; match them as a person would type them, store the label as defined.
    for option in options:
        if option.casefold() == value.strip().casefold():
            return option
    raise ValueError(f"has no option {value!r}; its options are: {', '.join(options)}")


def _options(value: Any, options: Sequence[str]) -> list[str]:
    if not isinstance(value, list):
        raise ValueError("must be an array of strings")
    return [_option(item, options) for item in value]


def _text(value: Any) -> str:
    # Numbers are accepted for text fields: forms send zip codes and ages as numbers.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str):
        raise ValueError("must be a string")
    return value


def _date(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return value  # epoch milliseconds, as HighLevel stores date fields
    if isinstance(value, str):
        try:
            return parse_date_of_birth(value)
        except ValueError:
            return _iso_timestamp(value)
    raise ValueError("must be a date (YYYY-MM-DD) or epoch milliseconds")


def _iso_timestamp(value: str) -> str:
    try:
        parse_iso_datetime(value)
    except ValueError:
        raise ValueError("must be a date (YYYY-MM-DD) or epoch milliseconds") from None
    return value


def check_value(field: CustomField, value: Any) -> Any:
    """Return `value` as stored for `field` (None: clear it); ValueError saying what is wrong."""
    if value is None or value == "" or value == []:
        return None
    kind = field.data_type.upper()
    if kind in NUMBERS:
        return _number(value)
    if kind in LISTS:
        return _options(value, field.options)
    if kind in ONE_OF:
        return _option(value, field.options)
    if kind == "DATE":
        return _date(value)
    if kind == "FILE_UPLOAD":
        if not isinstance(value, dict):
            raise ValueError("must be an object keyed by upload id")
        return value
    if kind in TEXTS:
        return _text(value)
    return value


def resolve_custom_fields(
    session: Session, location_id: str, items: Sequence[CustomFieldInput] | None
) -> dict[str, Any]:
    """Return checked values keyed by field id; 422 naming each unknown field or bad value."""
    if not items:
        return {}
    defined = list(
        session.scalars(select(CustomField).where(CustomField.location_id == location_id))
    )
    by_id = {defined_field.id: defined_field for defined_field in defined}
    by_key: dict[str, CustomField] = {}
    for defined_field in defined:
        by_key[defined_field.key] = defined_field
        by_key.setdefault(defined_field.key.removeprefix("contact."), defined_field)
    values: dict[str, Any] = {}
    problems: list[str] = []
    for index, item in enumerate(items):
        field = by_id.get(item.id or "") or by_key.get(item.key or "")
        if field is None:
            which = f"id {item.id!r}" if item.id is not None else f"key {item.key!r}"
            problems.append(
                f"customFields.{index} names no custom field of this location ({which})"
            )
            continue
        try:
            values[field.id] = check_value(field, item.the_value())
        except ValueError as exc:
            problems.append(f"customFields.{index} ({field.key}) {exc}")
    if problems:
        raise CrmError(422, problems)
    return values


def merge_custom_fields(current: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """Return `current` with `changes` applied: a None clears the field."""
    merged = dict(current)
    for field_id, value in changes.items():
        if value is None:
            merged.pop(field_id, None)
        else:
            merged[field_id] = value
    return merged
