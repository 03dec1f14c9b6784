"""Run-listing cursors: what `encode_cursor` writes reads back; anything else is a CursorError."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.engine.history import CursorError, decode_cursor, encode_cursor

moments = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC)
)


@given(moments, st.text(max_size=400))
def test_a_cursor_reads_back(moment: datetime, run_id: str) -> None:
    assert decode_cursor(encode_cursor(moment, run_id)) == (moment, run_id)


@given(st.text(max_size=200))
def test_anything_else_is_a_cursor_error_or_a_cursor(text: str) -> None:
    try:
        moment, run_id = decode_cursor(text)
    except CursorError:
        return
    assert moment.tzinfo is not None
    assert isinstance(run_id, str)


@pytest.mark.parametrize("cursor", ["", "e30", "WzEsMl0", "WyJ4IiwieSJd", "x" * 1001])
def test_cursors_this_code_did_not_write_are_refused(cursor: str) -> None:
    with pytest.raises(CursorError):
        decode_cursor(cursor)
