"""Pure parts of the contact wire format: birthdays, counts, cursors, filters (no server)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.crm.errors import CrmError
from leadwire.crm.records.listing import like_pattern
from leadwire.crm.wire.contacts import parse_date_of_birth
from leadwire.crm.wire.listing import epoch_ms, from_epoch_ms, parse_count, parse_cursor
from leadwire.crm.wire.search import Condition, Group, parse_filters, parse_search_after, parse_sort


@given(st.dates(min_value=date(1000, 1, 1)), st.sampled_from("-/._"), st.booleans())
def test_every_documented_birthday_format_reads_back(day: date, sep: str, year_first: bool) -> None:
    y, m, d = f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"
    text = sep.join((y, m, d)) if year_first else sep.join((m, d, y))
    assert parse_date_of_birth(text) == day.isoformat()


@pytest.mark.parametrize("text", ["1990-09/25", "25.09.1990", "1990-13-01", "02/30/2000", "90-1-1"])
def test_birthdays_that_are_not_dates(text: str) -> None:
    with pytest.raises(ValueError, match="must be a"):
        parse_date_of_birth(text)


def test_empty_birthday_clears() -> None:
    assert parse_date_of_birth("") is None
    assert parse_date_of_birth(None) is None


@given(st.integers(min_value=1, max_value=100))
def test_counts_as_integers_or_floats(n: int) -> None:
    for spelling in (str(n), f"{n}.0", f" {n} "):
        assert parse_count("limit", spelling, default=20, minimum=1, maximum=100) == n


@pytest.mark.parametrize("raw", ["nan", "inf", "1e400", "", "x"])
def test_counts_that_are_not_numbers(raw: str) -> None:
    if raw == "":
        assert parse_count("limit", raw, default=20, minimum=1, maximum=100) == 20
        return
    with pytest.raises(CrmError) as refused:
        parse_count("limit", raw, default=20, minimum=1, maximum=100)
    assert refused.value.status == 422


@given(st.datetimes(min_value=datetime(1970, 1, 1), max_value=datetime(9999, 1, 1)))
def test_epoch_ms_round_trips_at_millisecond_precision(moment: datetime) -> None:
    moment = moment.replace(microsecond=moment.microsecond // 1000 * 1000, tzinfo=UTC)
    assert from_epoch_ms(epoch_ms(moment)) == moment
    cursor = parse_cursor(str(epoch_ms(moment)), None)
    assert cursor is not None
    assert cursor.after == moment


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("50%_off\\") == "%50\\%\\_off\\\\%"


def test_filters_parse_into_a_tree() -> None:
    tree = parse_filters(
        [
            {"field": "dnd", "operator": "eq", "value": True},
            {
                "group": "or",
                "filters": [{"field": "customFields.abc", "operator": "exists"}],
            },
        ]
    )
    assert tree == Group(
        "AND",
        (
            Condition("dnd", "eq", True, "filters.0"),
            Group("OR", (Condition("customFields.abc", "exists", None, "filters.1.filters.0"),)),
        ),
    )
    group = tree.items[1]
    assert isinstance(group, Group)
    condition = group.items[0]
    assert isinstance(condition, Condition)
    assert condition.custom_field == "abc"


def test_every_filter_problem_is_reported_at_once() -> None:
    with pytest.raises(CrmError) as refused:
        parse_filters(
            [
                {"field": "nope", "operator": "eq", "value": 1},
                {"field": "city", "operator": "range", "value": {"gt": 1}},
                "text",
            ]
        )
    assert refused.value.message == [
        "filters.0.field 'nope' is not a field contacts can be filtered on",
        "filters.1.operator range is not supported for field city",
        "filters.2 must be an object",
    ]


def test_groups_nest_at_most_five_deep() -> None:
    leaf = {"field": "city", "operator": "exists"}
    nested: dict[str, object] = {"group": "AND", "filters": [leaf]}
    for _ in range(5):
        nested = {"group": "AND", "filters": [nested]}
    with pytest.raises(CrmError) as refused:
        parse_filters([nested])
    assert "deeper than 5" in str(refused.value.message)


def test_search_after_must_match_the_sort() -> None:
    keys = parse_sort(None)
    assert parse_search_after([1700000000000, "abc"], keys) == [1700000000000, "abc"]
    for bad in ([1700000000000], ["x", "abc"], [True, "abc"], [1, 2]):
        with pytest.raises(CrmError):
            parse_search_after(list(bad), keys)
