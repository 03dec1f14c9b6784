"""Turn pydantic validation errors into HighLevel's (class-validator) messages."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from leadwire.crm.errors import CrmError

_TYPE_MESSAGES = {
    "string_type": "must be a string",
    "bool_type": "must be a boolean value",
    "bool_parsing": "must be a boolean value",
    "int_type": "must be an integer number",
    "int_parsing": "must be an integer number",
    "int_from_float": "must be an integer number",
    "float_type": "must be a number conforming to the specified constraints",
    "float_parsing": "must be a number conforming to the specified constraints",
    "list_type": "must be an array",
    "dict_type": "must be an object",
    "model_type": "must be an object",
    "model_attributes_type": "must be an object",
    "missing": "should not be empty",
    "string_too_long": "is too long",
    "string_too_short": "should not be empty",
    "too_long": "has too many items",
    "too_short": "should not be empty",
    "enum": "must be one of the allowed values",
    "literal_error": "must be one of the allowed values",
    "datetime_parsing": "must be a valid ISO 8601 date string",
    "datetime_type": "must be a valid ISO 8601 date string",
    "datetime_from_date_parsing": "must be a valid ISO 8601 date string",
    "greater_than_equal": "must not be less than the minimum",
    "less_than_equal": "must not be greater than the maximum",
}

# Where FastAPI puts a parameter; dropped from the field name a user sees.
_SOURCES = frozenset({"body", "query", "path", "header"})


def field_name(loc: Sequence[int | str]) -> str:
    """Return the dotted name of the field at `loc`, without FastAPI's source prefix."""
    # Only the first part names the source: a body field may itself be called `query`.
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts) or "body"


def error_message(error: dict[str, Any]) -> str:
    """Return one class-validator style message for one pydantic error."""
    name = field_name(error.get("loc", ()))
    kind = error.get("type", "")
    if kind == "extra_forbidden":
        return f"property {name} should not exist"
    if kind in ("value_error", "assertion_error"):
        ctx = error.get("ctx") or {}
        reason = str(ctx.get("error") or error.get("msg", "is invalid"))
        return f"{name} {reason}"
    if kind in ("enum", "literal_error"):
        expected = (error.get("ctx") or {}).get("expected")
        if expected:
            return f"{name} must be one of the following values: {expected}"
    return f"{name} {_TYPE_MESSAGES.get(kind, str(error.get('msg', 'is invalid')).lower())}"


def to_crm_error(errors: Iterable[dict[str, Any]]) -> CrmError:
    """Map FastAPI's validation errors to the CRM's 400 (bad JSON) or 422 (bad fields)."""
    errors = list(errors)
    for error in errors:
        if error.get("type") == "json_invalid":
            position = error.get("loc", ("body", 0))[-1]
            reason = (error.get("ctx") or {}).get("error", "invalid JSON")
            return CrmError(400, f"Malformed JSON body: {reason} at position {position}")
    messages: list[str] = []
    for error in errors:
        message = error_message(error)
        if message not in messages:
            messages.append(message)
    return CrmError(422, messages)
