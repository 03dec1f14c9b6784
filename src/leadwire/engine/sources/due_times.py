"""When a schedule is due: the latest due time of a cron line or an interval, in a window.

- `cron`: five fields (minute hour day-of-month month day-of-week) read in the flow's time zone,
  as Vixie cron reads them: `*`, lists, ranges, steps (`a/n` means `a-<max>/n`), month and day
  names; when both day fields are restricted, a day matching either is due. A local time that
  a clock change skips is due at the instant it maps to (fold 0); a local time a clock change
  repeats is due once, at its first occurrence.
- `every`: due at each multiple of the interval since the Unix epoch (UTC), so every worker
  computes the same due times without sharing a clock origin: `every: 1d` is due at 00:00 UTC
  (write a cron line for a time of day in the flow's zone).

Pure functions; the scheduler asks for the latest due time in `(after, until]`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from leadwire.engine.flows.timing import check_cron, duration_s
from leadwire.engine.flows.triggers import ScheduleTrigger

# How far back a cron line is searched: past every leap day (a `29 2` line), no further.
MAX_LOOKBACK_DAYS = 8 * 366
_MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
_DAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _number(text: str, low: int, names: tuple[str, ...]) -> int:
    upper = text.upper()
    return low + names.index(upper) if upper in names else int(text)


def _field(text: str, low: int, high: int, names: tuple[str, ...] = ()) -> frozenset[int]:
    """Return the values a (checked) cron field allows."""
    values: set[int] = set()
    for item in text.split(","):
        span, _, step_text = item.partition("/")
        step = int(step_text) if step_text else 1
        if span == "*":
            start, end = low, high
        else:
            first, dash, last = span.partition("-")
            start = _number(first, low, names)
            end = _number(last, low, names) if dash else (high if step_text else start)
        values.update(range(start, end + 1, step))
    return frozenset(values)


@dataclass(frozen=True, slots=True)
class CronLine:
    """A parsed five-field cron line."""

    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool  # day of month is `*...`
    any_weekday: bool  # day of week is `*...`

    @classmethod
    def parse(cls, line: str) -> CronLine:
        """Parse a cron line (ValueError if it is not a valid one)."""
        minute, hour, day, month, weekday = check_cron(line).split()
        return cls(
            minutes=_field(minute, 0, 59),
            hours=_field(hour, 0, 23),
            days=_field(day, 1, 31),
            months=_field(month, 1, 12, _MONTHS),
            weekdays=frozenset(0 if d == 7 else d for d in _field(weekday, 0, 7, _DAYS)),
            any_day=day.startswith("*"),
            any_weekday=weekday.startswith("*"),
        )

    def is_due_on(self, day: date) -> bool:
        """Return whether the line fires at some time of `day`."""
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.any_day and self.any_weekday:
            return True
        if self.any_day:
            return by_weekday
        if self.any_weekday:
            return by_date
        return by_date or by_weekday

    def latest(self, zone: ZoneInfo, after: datetime, until: datetime) -> datetime | None:
        """Return the latest due time in `(after, until]` (UTC), or None."""
        local_until = until.astimezone(zone)
        first_day = max(
            after.astimezone(zone).date() - timedelta(days=1),
            local_until.date() - timedelta(days=MAX_LOOKBACK_DAYS),
        )
        day = local_until.date()
        while day >= first_day:
            if self.is_due_on(day):
                found = self._latest_on(day, zone, local_until, after, until)
                if found is not None:
                    return found
            day -= timedelta(days=1)
        return None

    def _latest_on(
        self, day: date, zone: ZoneInfo, local_until: datetime, after: datetime, until: datetime
    ) -> datetime | None:
        last_hour = local_until.hour if day == local_until.date() else 23
        for hour in sorted((h for h in self.hours if h <= last_hour), reverse=True):
            for minute in sorted(self.minutes, reverse=True):
                moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
                due = moment.astimezone(UTC)
                if after < due <= until:
                    return due
        return None


def latest_due(
    trigger: ScheduleTrigger, timezone: str, *, after: datetime, until: datetime
) -> datetime | None:
    """Return the latest due time of `trigger` in `(after, until]`, in UTC; None if none."""
    if until <= after:
        return None
    if trigger.every is not None:
        step = duration_s(trigger.every)
        seconds = int((until.astimezone(UTC) - _EPOCH).total_seconds())
        due = _EPOCH + timedelta(seconds=seconds - seconds % step)
        return due if due > after else None
    assert trigger.cron is not None  # the model holds exactly one of the two
    return CronLine.parse(trigger.cron).latest(ZoneInfo(timezone), after, until)


def due_text(due: datetime) -> str:
    """Return a due time as it appears in run ids: UTC, to the second, `Z`."""
    return due.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
