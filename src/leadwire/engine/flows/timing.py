"""Time in flow documents: durations (`90s`, `2h30m`, `1d`), cron lines, and due dates.

Due dates count business days in the location's time zone: Monday to Friday, minus the flow's
holidays. "Due in N business days" keeps the time of day (or uses `at`); N = 0 means today, or the
next business day when today is not one.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

MAX_DURATION_S = 365 * 86_400
_DURATION = re.compile(r"(?:(\d{1,6})d)?(?:(\d{1,6})h)?(?:(\d{1,6})m)?(?:(\d{1,8})s)?")
_UNITS_S = (86_400, 3_600, 60, 1)
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names of values from `lowest` on)
_CRON_FIELDS: tuple[tuple[str, int, int, tuple[str, ...]], ...] = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)


def duration_s(text: str) -> int:
    """Return the seconds of a duration such as `45m` or `1d12h`; ValueError if it is not one."""
    match = _DURATION.fullmatch(text.strip())
    if not text.strip() or match is None:
        raise ValueError(f"{text!r} is not a duration (write e.g. 30s, 15m, 2h, 1d12h)")
    seconds = sum(
        int(part or 0) * unit for part, unit in zip(match.groups(), _UNITS_S, strict=True)
    )
    if not 0 < seconds <= MAX_DURATION_S:
        raise ValueError(f"{text!r} must be more than 0 s and at most 365 days")
    return seconds


def _cron_value(text: str, field: str, low: int, high: int, names: tuple[str, ...]) -> int:
    upper = text.upper()
    if upper in names:
        return low + names.index(upper)
    if not text.isascii() or not text.isdigit():
        raise ValueError(f"{field} {text!r} is not a number")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"{field} {value} is outside {low}-{high}")
    return value


def _cron_item(item: str, field: str, low: int, high: int, names: tuple[str, ...]) -> None:
    span, slash, step = item.partition("/")
    if slash and (not step.isascii() or not step.isdigit() or int(step) == 0):
        raise ValueError(f"{field} step {step!r} must be a number above 0")
    if span == "*":
        return
    first, dash, last = span.partition("-")
    start = _cron_value(first, field, low, high, names)
    if dash and _cron_value(last, field, low, high, names) < start:
        raise ValueError(f"{field} range {span!r} runs backwards")


def check_cron(line: str) -> str:
    """Return a five-field cron line (minute hour day month weekday) if valid; else ValueError."""
    fields = line.split()
    if len(fields) != len(_CRON_FIELDS):
        raise ValueError(f"{line!r} must have 5 fields: minute hour day-of-month month day-of-week")
    for text, (field, low, high, names) in zip(fields, _CRON_FIELDS, strict=True):
        for item in text.split(","):
            if not item:
                raise ValueError(f"{field} {text!r} has an empty item")
            _cron_item(item, field, low, high, names)
    return " ".join(fields)


def is_business_day(day: date, holidays: Collection[date]) -> bool:
    """Return whether `day` is Monday to Friday and not a holiday."""
    return day.weekday() < 5 and day not in holidays


def due_in_business_days(
    now: datetime,
    days: int,
    zone: ZoneInfo,
    holidays: Collection[date] = (),
    at: time | None = None,
) -> datetime:
    """Return the moment `days` business days after `now` in `zone` (aware, in `zone`)."""
    local = now.astimezone(zone)
    day = local.date()
    counted = 0
    if days == 0:
        while not is_business_day(day, holidays):
            day += timedelta(days=1)
    while counted < days:
        day += timedelta(days=1)
        if is_business_day(day, holidays):
            counted += 1
    clock = at or local.time().replace(tzinfo=None)
    return datetime.combine(day, clock, tzinfo=zone)


def due_in_hours(now: datetime, hours: float) -> datetime:
    """Return the moment `hours` after `now`."""
    return now + timedelta(hours=hours)
