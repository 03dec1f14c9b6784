"""Paging through contacts: cursors, locationId on every page, and the guard against loops."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from leadwire.connectors.contacts.pagination import (
    EPOCH,
    PaginationLoopError,
    iter_pages,
)
from leadwire.connectors.contacts.wire.listing import Condition, Operator, SearchQuery
from tests.connectors.contacts.fakes import LOCATION, FakeHighLevel

IDS = [f"{n:020d}".replace("0", "c") for n in range(1, 8)]


def _item(n: int) -> dict[str, object]:
    added = EPOCH + timedelta(days=20_000, minutes=-n)
    return {"id": IDS[n], "locationId": LOCATION, "dateAdded": added.isoformat()}


def _list_server(
    pages: list[list[int]], *, with_meta: bool = True, stuck: bool = False
) -> Callable[[httpx.Request], httpx.Response]:
    """Serve `pages` of GET /contacts/ by startAfterId; `stuck` repeats the first cursor."""
    starts = {None: 0} | {IDS[page[-1]]: k + 1 for k, page in enumerate(pages)}

    def handler(request: httpx.Request) -> httpx.Response:
        index = starts[request.url.params.get("startAfterId")]
        page = pages[index]
        last = len(pages) - 1 == index
        body: dict[str, object] = {"contacts": [_item(n) for n in page], "count": 7}
        if with_meta:
            cursor = pages[0][-1] if stuck else page[-1]
            body["meta"] = {
                "total": 7,
                "startAfterId": IDS[cursor],
                "startAfter": 1_000 + cursor,
                "nextPageUrl": None if last else "http://example.test/contacts/?next",
                "nextPage": None if last else index + 2,
            }
        return httpx.Response(200, json=body)

    return handler


def test_list_follows_meta_and_keeps_location_id(highlevel: FakeHighLevel) -> None:
    highlevel.on("GET", "/contacts/", _list_server([[0, 1, 2], [3, 4, 5], [6]]))
    with highlevel.keyed_client() as client:
        ids = [c.id for c in client.lists.iter_all(limit=3)]
    assert ids == IDS[:7]
    sent = [r.url.params for r in highlevel.api_requests()]
    assert [p.get("locationId") for p in sent] == [LOCATION] * 3
    assert [p.get("limit") for p in sent] == ["3"] * 3
    assert [(p.get("startAfter"), p.get("startAfterId")) for p in sent] == [
        (None, None),
        ("1002", IDS[2]),
        ("1005", IDS[5]),
    ]


def test_list_without_meta_goes_on_from_the_last_contact(highlevel: FakeHighLevel) -> None:
    highlevel.on("GET", "/contacts/", _list_server([[0, 1], [2, 3], [4]], with_meta=False))
    with highlevel.keyed_client() as client:
        assert [c.id for c in client.lists.iter_all(limit=2)] == IDS[:5]
    second = highlevel.api_requests()[1].url.params
    assert second["startAfterId"] == IDS[1]
    assert int(second["startAfter"]) == 20_000 * 86_400_000 - 60_000


def test_a_repeated_cursor_stops_the_list(highlevel: FakeHighLevel) -> None:
    highlevel.on("GET", "/contacts/", _list_server([[0, 1], [2, 3], [4]], stuck=True))
    seen: list[str] = []
    with highlevel.keyed_client() as client, pytest.raises(PaginationLoopError, match="page 2"):
        seen.extend(c.id for c in client.lists.iter_all(limit=2))
    assert seen == IDS[:2]  # the repeated page was never yielded
    assert len(highlevel.api_requests()) == 2


def test_search_follows_search_after(highlevel: FakeHighLevel) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        start = 0 if "searchAfter" not in body else body["searchAfter"][1] + 1
        items = [
            {"id": IDS[n], "searchAfter": [1_000 - n, n]}
            for n in range(start, min(start + body["pageLimit"], 5))
        ]
        return httpx.Response(200, json={"contacts": items, "total": 5})

    highlevel.on("POST", "/contacts/search", handler)
    query = SearchQuery(filters=[Condition(field="tags", operator=Operator.EQ, value="vip")])
    with highlevel.keyed_client() as client:
        assert [c.id for c in client.lists.iter_search(query, page_limit=2)] == IDS[:5]
    bodies = [json.loads(r.content) for r in highlevel.api_requests()]
    assert [b.get("searchAfter") for b in bodies] == [None, [999, 1], [997, 3]]
    assert all(b["locationId"] == LOCATION and "page" not in b for b in bodies)
    assert bodies[0]["filters"] == [{"field": "tags", "operator": "eq", "value": "vip"}]


def test_business_lists_page_by_skip(highlevel: FakeHighLevel) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        skip, limit = int(request.url.params["skip"]), int(request.url.params["limit"])
        items = [_item(n) for n in range(skip, min(skip + limit, 5))]
        return httpx.Response(200, json={"contacts": items, "count": 5})

    highlevel.on("GET", f"/contacts/business/{'B' * 20}", handler)
    with highlevel.keyed_client() as client:
        assert [c.id for c in client.lists.iter_business("B" * 20, limit=2)] == IDS[:5]
    assert [r.url.params["skip"] for r in highlevel.api_requests()] == ["0", "2", "4"]


@given(st.lists(st.integers(min_value=0, max_value=6), min_size=1, max_size=12))
def test_iter_pages_ends_or_refuses_a_repeat(cursors: list[int]) -> None:
    """Pages chain through `cursors` then end; a repeat raises before the repeated page."""
    pages = list(range(len(cursors) + 1))

    def fetch(cursor: int | None) -> int:
        return 0 if cursor is None else cursors.index(cursor) + 1

    def following(page: int) -> int | None:
        return cursors[page] if page < len(cursors) else None

    yielded: list[int] = []
    repeat = next((k for k, c in enumerate(cursors) if c in cursors[:k]), None)
    if repeat is None:
        yielded.extend(iter_pages(fetch, following, "op"))
        assert yielded == pages
    else:
        with pytest.raises(PaginationLoopError):
            yielded.extend(iter_pages(fetch, following, "op"))
        assert yielded == pages[:repeat]


def test_iter_pages_gives_up_after_max_pages() -> None:
    with pytest.raises(PaginationLoopError, match="after 3 pages"):
        list(iter_pages(lambda c: (c or 0) + 1, lambda p: p, "op", max_pages=3))
