"""Lists of contacts: `GET /contacts/` (deprecated, cursor), search (`searchAfter`), by business.

Every page request carries `locationId`: n8n's "return all" dropped it after the first page and
got 403 beyond 100 contacts (n8n-io/n8n#11353). The `iter_*` methods read lazily, page by page,
and stop on a repeated cursor (see `pagination`).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pydantic import JsonValue

from leadwire.connectors.contacts.pagination import (
    DEFAULT_MAX_PAGES,
    ListCursor,
    SearchCursor,
    iter_pages,
    next_list_cursor,
    next_search_cursor,
    next_skip,
)
from leadwire.connectors.contacts.session import ContactsSession, path_id
from leadwire.connectors.contacts.wire.contacts import ListedContact, SearchedContact
from leadwire.connectors.contacts.wire.listing import ContactsPage, SearchPage, SearchQuery

LIST_LIMIT_MAX = 100
SEARCH_LIMIT_MAX = 500


def _dump(value: JsonValue) -> str:
    return json.dumps(value, separators=(",", ":"), sort_keys=True)


def _check_limit(limit: int, maximum: int) -> int:
    if isinstance(limit, bool) or not 1 <= limit <= maximum:
        raise ValueError(f"limit must be 1-{maximum}, not {limit!r}")
    return limit


class ContactListsApi:
    """Read the connection's location's contacts a page at a time."""

    def __init__(self, session: ContactsSession, location_id: str) -> None:
        self._session = session
        self._location_id = location_id

    def page(
        self, *, limit: int = 20, query: str | None = None, after: ListCursor | None = None
    ) -> ContactsPage:
        """Return one page of `GET /contacts/`, newest first, after the cursor `after`."""
        params: dict[str, str | int | None] = {
            "locationId": self._location_id,
            "limit": _check_limit(limit, LIST_LIMIT_MAX),
            "query": query,
        }
        if after is not None:
            params |= {"startAfter": after.start_after, "startAfterId": after.start_after_id}
        return self._session.fetch("GET", "contacts/", ContactsPage, "get-contacts", params=params)

    def iter_all(
        self,
        *,
        limit: int = LIST_LIMIT_MAX,
        query: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> Iterator[ListedContact]:
        """Yield every contact of `GET /contacts/`, following its cursor page by page."""
        seen = 0

        def fetch(cursor: ListCursor | None) -> ContactsPage:
            return self.page(limit=limit, query=query, after=cursor)

        def following(page: ContactsPage) -> ListCursor | None:
            nonlocal seen
            seen += len(page.contacts)
            return next_list_cursor(page, limit, seen)

        for page in iter_pages(fetch, following, "get-contacts", max_pages=max_pages):
            yield from page.contacts

    def search(
        self,
        query: SearchQuery | None = None,
        *,
        page_limit: int = 20,
        page: int | None = None,
        search_after: list[JsonValue] | None = None,
    ) -> SearchPage:
        """Return one page of `POST /contacts/search` (by `page`, or after `search_after`)."""
        if page is not None and search_after is not None:
            raise ValueError("page and search_after exclude each other")
        extra: dict[str, object] = {
            "locationId": self._location_id,
            "pageLimit": _check_limit(page_limit, SEARCH_LIMIT_MAX),
        }
        if page is not None:
            extra["page"] = page
        if search_after is not None:
            extra["searchAfter"] = search_after
        body = (query or SearchQuery()).wire(**extra)
        return self._session.fetch(
            "POST", "contacts/search", SearchPage, "search-contacts-advanced", body=body
        )

    def iter_search(
        self,
        query: SearchQuery | None = None,
        *,
        page_limit: int = 100,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> Iterator[SearchedContact]:
        """Yield every contact the search finds, following `searchAfter` (past 10,000 too)."""
        seen = 0

        def fetch(cursor: SearchCursor | None) -> SearchPage:
            after = None if cursor is None else [json.loads(v) for v in cursor]
            return self.search(query, page_limit=page_limit, search_after=after)

        def following(page: SearchPage) -> SearchCursor | None:
            nonlocal seen
            seen += len(page.contacts)
            return next_search_cursor(page, page_limit, seen, _dump)

        for page in iter_pages(fetch, following, "search-contacts-advanced", max_pages=max_pages):
            yield from page.contacts

    def business_page(
        self, business_id: str, *, limit: int = 25, skip: int = 0, query: str | None = None
    ) -> ContactsPage:
        """Return one page of the contacts of a business (`GET /contacts/business/{id}`)."""
        op = "get-contacts-by-businessId"
        params: dict[str, str | int | None] = {
            "locationId": self._location_id,
            "limit": _check_limit(limit, LIST_LIMIT_MAX),
            "skip": skip,
            "query": query,
        }
        path = f"contacts/business/{path_id('businessId', business_id, op)}"
        return self._session.fetch("GET", path, ContactsPage, op, params=params)

    def iter_business(
        self,
        business_id: str,
        *,
        limit: int = LIST_LIMIT_MAX,
        query: str | None = None,
        max_pages: int = DEFAULT_MAX_PAGES,
    ) -> Iterator[ListedContact]:
        """Yield every contact of a business, `limit` at a time."""
        skip = 0

        def fetch(cursor: int | None) -> ContactsPage:
            nonlocal skip
            skip = cursor or 0
            return self.business_page(business_id, limit=limit, skip=skip, query=query)

        def following(page: ContactsPage) -> int | None:
            return next_skip(page.count, len(page.contacts), limit, skip)

        op = "get-contacts-by-businessId"
        for page in iter_pages(fetch, following, op, max_pages=max_pages):
            yield from page.contacts
