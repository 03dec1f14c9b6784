"""Plausible, deterministic analytics rows for campaigns and ads.

The same (entity, period, column) always gives the same number, so tests and demos are stable,
and the numbers hang together: impressions > clicks > leads, spend = clicks x cost per click.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from leadwire.sandbox.paging import InvalidParameterError

MAX_RANGE_DAYS = 90
MAX_HOUR_RANGE_DAYS = 3


class Granularity(StrEnum):
    """The spec's `Granularity`."""

    TOTAL = "TOTAL"
    DAY = "DAY"
    HOUR = "HOUR"
    WEEK = "WEEK"
    MONTH = "MONTH"


@dataclass(frozen=True, slots=True)
class Entity:
    """What a row is about: its id column (CAMPAIGN_ID or AD_ID) and the values it can name."""

    id_column: str
    id: str
    names: dict[str, Any]


def check_range(start: date, end: date, granularity: Granularity) -> None:
    """Refuse a reversed range, or one longer than the spec allows for the granularity."""
    if end < start:
        raise InvalidParameterError("end_date must not be before start_date.")
    limit = MAX_HOUR_RANGE_DAYS if granularity is Granularity.HOUR else MAX_RANGE_DAYS
    if (end - start).days + 1 > limit:
        raise InvalidParameterError(
            f"the range from start_date to end_date may span at most {limit} days "
            f"for granularity {granularity.value}."
        )


def _periods(start: date, end: date, granularity: Granularity) -> Iterator[dict[str, Any]]:
    if granularity is Granularity.TOTAL:
        yield {}
        return
    day = start
    while day <= end:
        if granularity is Granularity.DAY:
            yield {"DATE": day.isoformat()}
            day += timedelta(days=1)
        elif granularity is Granularity.HOUR:
            for hour in range(24):
                yield {"DATE": day.isoformat(), "HOUR": hour}
            day += timedelta(days=1)
        elif granularity is Granularity.WEEK:
            yield {"DATE": day.isoformat()}
            day += timedelta(days=7 - day.weekday())
        else:
            yield {"DATE": day.isoformat()}
            day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _unit(*parts: object) -> float:
    digest = hashlib.sha256("|".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


@dataclass(frozen=True, slots=True)
class _Base:
    impressions: int
    clicks: int
    leads: int
    spend_micro: int


def _base(entity_id: str, period: dict[str, Any], hours: int) -> _Base:
    key = (entity_id, period.get("DATE", "total"), period.get("HOUR", ""))
    impressions = int((2_000 + 18_000 * _unit(*key, "imp")) * hours / 24)
    clicks = int(impressions * (0.005 + 0.025 * _unit(*key, "ctr")))
    leads = int(clicks * (0.05 + 0.15 * _unit(*key, "cvr")))
    spend = clicks * int(300_000 + 1_700_000 * _unit(*key, "cpc"))
    return _Base(impressions, clicks, leads, spend)


def _value(column: str, base: _Base, entity: Entity, key: tuple[object, ...]) -> Any:
    if column in entity.names:
        return entity.names[column]
    if column in ("CTR", "ECTR", "CTR_2", "OUTBOUND_CTR_1"):
        return round(base.clicks / base.impressions, 6) if base.impressions else 0.0
    if column == "COST_PER_LEAD":
        return round(base.spend_micro / base.leads / 1e6, 2) if base.leads else 0.0
    if "RATE" in column or "ROAS" in column:
        return round(_unit(*key, column) * 0.2, 6)
    if column.startswith("SPEND_IN"):
        micro = base.spend_micro
        return micro if column.endswith("MICRO_DOLLAR") else round(micro / 1e6, 2)
    if column.endswith("_IN_DOLLAR"):
        return round(1 + 4 * _unit(*key, column), 2)
    if column.endswith("_IN_MICRO_DOLLAR"):
        return int(1_000_000 + 4_000_000 * _unit(*key, column))
    if "LEAD" in column:
        return base.leads
    if "IMPRESSION" in column:
        return base.impressions
    if "CLICK" in column:
        return base.clicks
    return int(base.clicks * _unit(*key, column))


def rows(
    entities: list[Entity],
    columns: list[str],
    start: date,
    end: date,
    granularity: Granularity,
) -> list[dict[str, Any]]:
    """Return one row per entity and period with the requested columns."""
    hours = 1 if granularity is Granularity.HOUR else 24
    out: list[dict[str, Any]] = []
    for entity in entities:
        for period in _periods(start, end, granularity):
            base = _base(entity.id, period, hours)
            key = (entity.id, period.get("DATE", "total"), period.get("HOUR", ""))
            row: dict[str, Any] = {entity.id_column: entity.id, **period}
            for column in columns:
                row[column] = _value(column, base, entity, key)
            out.append(row)
    return out
