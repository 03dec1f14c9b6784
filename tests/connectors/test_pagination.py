"""Bookmark pagination: ends at a null bookmark, refuses to loop, bounds page_size."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.connectors.pinterest.pagination import (
    FetchPage,
    PaginationLoopError,
    check_page_size,
    iter_items,
    iter_pages,
)
from leadwire.connectors.pinterest.wire.pages import Page
from leadwire.errors import FatalError
from tests.connectors.fakes import FakePinterest

ACCOUNT = "549755885175"


def scripted(pages: list[Page[int]]) -> tuple[list[str | None], FetchPage[int]]:
    asked: list[str | None] = []

    def fetch(bookmark: str | None) -> Page[int]:
        asked.append(bookmark)
        return pages[len(asked) - 1]

    return asked, fetch


@pytest.mark.parametrize("last", [None, ""])
def test_stops_at_a_null_or_empty_bookmark(last: str | None) -> None:
    asked, fetch = scripted(
        [
            Page(items=[1, 2], bookmark="b1"),
            Page(items=[3], bookmark="b2"),
            Page(items=[4], bookmark=last),
        ]
    )
    assert list(iter_items(fetch, "test/list")) == [1, 2, 3, 4]
    assert asked == [None, "b1", "b2"]


def test_a_repeated_bookmark_raises_instead_of_looping() -> None:
    asked, fetch = scripted(
        [
            Page(items=[1], bookmark="b1"),
            Page(items=[2], bookmark="b2"),
            Page(items=[1], bookmark="b1"),
            Page(items=[9], bookmark=None),
        ]
    )
    with pytest.raises(PaginationLoopError, match="a second time, on page 3") as caught:
        list(iter_items(fetch, "test/list"))
    assert isinstance(caught.value, FatalError)
    assert "test/list" in str(caught.value)
    assert asked == [None, "b1", "b2"]


def test_a_bookmark_equal_to_itself_is_caught_on_the_second_page() -> None:
    _, fetch = scripted([Page(items=[1], bookmark="same"), Page(items=[1], bookmark="same")])
    with pytest.raises(PaginationLoopError):
        list(iter_pages(fetch, "test/list"))


def test_a_server_that_never_stops_is_cut_off() -> None:
    counter = iter(range(1_000_000))

    def fetch(bookmark: str | None) -> Page[int]:
        return Page(items=[], bookmark=f"b{next(counter)}")

    with pytest.raises(PaginationLoopError, match="after 5 pages"):
        list(iter_pages(fetch, "test/list", max_pages=5))


@pytest.mark.parametrize("size", [0, 251, -1, True])
def test_page_size_outside_1_to_250_is_refused(size: int) -> None:
    with pytest.raises(ValueError, match="page_size"):
        check_page_size(size)


@pytest.mark.parametrize("size", [1, 25, 250])
def test_page_size_inside_the_bounds_is_kept(size: int) -> None:
    assert check_page_size(size) == size


@given(st.lists(st.lists(st.integers(), max_size=5), min_size=1, max_size=30))
def test_every_item_of_distinct_bookmark_pages_comes_out_in_order(chunks: list[list[int]]) -> None:
    pages = [
        Page[int](items=chunk, bookmark=None if i == len(chunks) - 1 else f"bm-{i}")
        for i, chunk in enumerate(chunks)
    ]
    _, fetch = scripted(pages)
    assert list(iter_items(fetch, "test/list")) == [x for chunk in chunks for x in chunk]


@given(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=2, max_size=10))
def test_any_repeat_in_the_bookmarks_raises(bookmarks: list[str]) -> None:
    pages = [Page[int](items=[], bookmark=b) for b in bookmarks] + [
        Page[int](items=[], bookmark=None)
    ]
    _, fetch = scripted(pages)
    if len(set(bookmarks)) < len(bookmarks):
        with pytest.raises(PaginationLoopError):
            list(iter_items(fetch, "test/list"))
    else:
        assert list(iter_items(fetch, "test/list")) == []


def test_the_client_follows_bookmarks_over_http(pinterest: FakePinterest) -> None:
    forms = [{"id": str(100 + i), "questions": []} for i in range(5)]

    def answer(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("bookmark") or 0)
        size = int(request.url.params["page_size"])
        end = start + size
        return httpx.Response(
            200,
            json={"items": forms[start:end], "bookmark": str(end) if end < len(forms) else None},
        )

    pinterest.on("GET", f"/ad_accounts/{ACCOUNT}/lead_forms", answer)
    with pinterest.client() as client:
        ids = [f.id for f in client.lead_forms.list_all(ACCOUNT, page_size=2)]
    assert ids == ["100", "101", "102", "103", "104"]
    asked = [r.url.params.get("bookmark") for r in pinterest.api_requests()]
    assert asked == [None, "2", "4"]


def test_the_client_refuses_a_looping_server(pinterest: FakePinterest) -> None:
    pinterest.on(
        "GET",
        f"/ad_accounts/{ACCOUNT}/leads/subscriptions",
        lambda r: httpx.Response(200, json={"items": [], "bookmark": "stuck"}),
    )
    with pinterest.client() as client, pytest.raises(PaginationLoopError):
        list(client.subscriptions.list_all(ACCOUNT))
    assert len(pinterest.api_requests()) == 2
