"""The formatters (`value | name(args)`): names, emails, phones, dates, numbers, text, lists.

Each formatter takes plain values and returns one; a value it cannot format raises
`FormatError(value, reason)`, which the mapping turns into "mapping <field>: <value> <reason>".
Text formatters given a list apply to each item (checkbox answers are lists). Null passes
through every formatter but `default`, so a missing answer stays missing instead of failing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from leadwire.engine.expressions.errors import EvaluationError, FormatError
from leadwire.engine.expressions.values import (
    Value,
    checked_text,
    is_empty,
    iso_datetime,
    to_text,
    type_name,
)

MAX_DATE_FORMAT_CHARS = 64
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")
_NUMBER_NOISE = re.compile(r"[\s$€£¥,_']")
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%m/%d/%Y", "%m-%d-%Y")


@dataclass(frozen=True)
class FilterSpec:
    """A formatter: its function, parameter names and how many of them are required."""

    name: str
    function: Callable[..., Value]
    params: tuple[str, ...] = ()
    required: int = 0
    keeps_null: bool = True


def _text(value: Value, name: str) -> str:
    if isinstance(value, Mapping | list):
        raise EvaluationError(f"'{name}' needs text, not a {type_name(value)}")
    return to_text(value)


def _each(function: Callable[[str], str], name: str) -> Callable[..., Value]:
    def apply(value: Value) -> Value:
        if isinstance(value, list):
            return [checked_text(function(_text(item, name))) for item in value]
        return checked_text(function(_text(value, name)))

    return apply


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def _default(value: Value, fallback: Value) -> Value:
    return fallback if is_empty(value) else value


def split_name(value: Value) -> Value:
    """Split a full name: `{first, last}`; "Last, First" is understood, one word is a first name."""
    text = " ".join(_text(value, "split_name").split())
    if "," in text:
        last, _, first = (part.strip() for part in text.partition(","))
        return {"first": first or None, "last": last or None}
    first, _, last = text.partition(" ")
    return {"first": first or None, "last": last or None}


def e164(value: Value, region: Value = "US") -> Value:
    """Return a phone number in E.164 (`+15125550123`); `region` reads numbers without `+`."""
    code = to_text(region).upper()
    if code not in phonenumbers.SUPPORTED_REGIONS:
        raise EvaluationError(f"'e164' has no region {code!r} (use a two-letter country code)")
    text = _text(value, "e164")
    reason = f"is not a phone number for region {code}"
    try:
        parsed = phonenumbers.parse(text, code)
    except phonenumbers.NumberParseException:
        raise FormatError(value, reason) from None
    if not phonenumbers.is_valid_number(parsed):
        raise FormatError(value, reason)
    return str(phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164))


def email(value: Value) -> Value:
    """Return a checked email address (trimmed, domain normalised; no DNS look-up)."""
    text = _text(value, "email").strip()
    try:
        return validate_email(text, check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise FormatError(value, f"is not an email address ({exc})") from None


def _moment(value: Value) -> datetime | date:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value / 1000, UTC)  # epoch ms, as Pinterest sends
        except (OverflowError, OSError, ValueError):
            raise FormatError(value, "is not a date (epoch milliseconds out of range)") from None
    text = _text(value, "date").strip()
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FormatError(value, "is not a date (use ISO-8601, e.g. 2026-03-01)") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def zone(name: Value) -> ZoneInfo:
    """Return the time zone called `name` (IANA, e.g. America/New_York)."""
    text = to_text(name)
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        raise EvaluationError(f"{text!r} is not a time zone (use an IANA name)") from None


def format_date(value: Value, format: Value = "%Y-%m-%d", tz: Value = "UTC") -> Value:
    """Return a date or date-time in `tz`, as `format` (strftime) or `iso` (ISO-8601, UTC)."""
    pattern = to_text(format)
    if len(pattern) > MAX_DATE_FORMAT_CHARS:
        raise EvaluationError(f"a date format is longer than {MAX_DATE_FORMAT_CHARS} characters")
    moment = _moment(value)
    if isinstance(moment, datetime):
        moment = moment.astimezone(zone(tz))
        if pattern == "iso":
            return iso_datetime(moment)
    elif pattern == "iso":
        return moment.isoformat()
    try:
        return moment.strftime(pattern)
    except ValueError as exc:
        raise EvaluationError(f"date format {pattern!r} is not valid ({exc})") from None


def number(value: Value) -> Value:
    """Return a number from text such as `$12,500.50` or `1 200` ('.' is the decimal point)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    text = _NUMBER_NOISE.sub("", _text(value, "number"))
    if not _NUMBER.fullmatch(text):
        raise FormatError(value, "is not a number")
    try:
        return float(text) if "." in text else int(text)
    except ValueError:  # more digits than Python converts
        raise FormatError(value, "is not a number this size") from None


def _join(value: Value, separator: Value = ", ") -> Value:
    items = value if isinstance(value, list) else [value]
    return checked_text(to_text(separator).join(to_text(item) for item in items))


def _split(value: Value, separator: Value = ",") -> Value:
    sep = to_text(separator)
    if not sep:
        raise EvaluationError("'split' needs a non-empty separator")
    parts = [part.strip() for part in _text(value, "split").split(sep)]
    return [part for part in parts if part]


def _replace(value: Value, old: Value, new: Value) -> Value:
    if not to_text(old):
        raise EvaluationError("'replace' needs a non-empty text to replace")
    return checked_text(_text(value, "replace").replace(to_text(old), to_text(new)))


def _truncate(value: Value, length: Value) -> Value:
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise EvaluationError("'truncate' needs a length of 0 or more")
    return _text(value, "truncate")[:length]


def _affix(value: Value, text: Value, *, before: bool) -> Value:
    def one(item: Value) -> Value:
        body = _text(item, "prefix" if before else "suffix")
        if not body:
            return body
        return checked_text(to_text(text) + body if before else body + to_text(text))

    return [one(item) for item in value] if isinstance(value, list) else one(value)


def _prefix(value: Value, text: Value) -> Value:
    return _affix(value, text, before=True)


def _suffix(value: Value, text: Value) -> Value:
    return _affix(value, text, before=False)


def _first(value: Value) -> Value:
    return (value[0] if value else None) if isinstance(value, list) else value


def _last(value: Value) -> Value:
    return (value[-1] if value else None) if isinstance(value, list) else value


def _length(value: Value) -> Value:
    if isinstance(value, list | str | Mapping):
        return len(value)
    raise EvaluationError(f"'length' needs text, a list or a map, not a {type_name(value)}")


def _lookup_placeholder(value: Value, table: Value, default: Value = None) -> Value:
    raise EvaluationError("'lookup' is evaluated with the flow's tables")  # pragma: no cover


FILTERS: dict[str, FilterSpec] = {
    spec.name: spec
    for spec in (
        FilterSpec("trim", _each(str.strip, "trim")),
        FilterSpec("lower", _each(str.lower, "lower")),
        FilterSpec("upper", _each(str.upper, "upper")),
        FilterSpec("title", _each(str.title, "title")),
        FilterSpec("slug", _each(_slug, "slug")),
        FilterSpec("digits", _each(lambda t: "".join(c for c in t if c in "0123456789"), "digits")),
        FilterSpec("string", lambda v: checked_text(to_text(v))),
        FilterSpec("default", _default, ("fallback",), 1, keeps_null=False),
        FilterSpec("split_name", split_name),
        FilterSpec("e164", e164, ("region",)),
        FilterSpec("email", email),
        FilterSpec("date", format_date, ("format", "tz")),
        FilterSpec("number", number),
        FilterSpec("lookup", _lookup_placeholder, ("table", "default"), 1),
        FilterSpec("join", _join, ("separator",)),
        FilterSpec("split", _split, ("separator",)),
        FilterSpec("replace", _replace, ("old", "new"), 2),
        FilterSpec("truncate", _truncate, ("length",), 1),
        FilterSpec("prefix", _prefix, ("text",), 1),
        FilterSpec("suffix", _suffix, ("text",), 1),
        FilterSpec("first", _first),
        FilterSpec("last", _last),
        FilterSpec("length", _length),
    )
}
