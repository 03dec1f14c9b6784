"""Cursors of the contact lists, and a page loop that never goes round in circles.

- `GET /contacts/` continues after `meta.startAfter` (epoch ms) and `meta.startAfterId`; without
  `meta` (the spec lists none) after the last contact's `dateAdded` and `id`. It ends on an empty
  page, a null `meta.nextPageUrl`, `meta.total` contacts seen, or — without meta — a short page.
- `POST /contacts/search` continues after the last contact's `searchAfter`; it ends on a short
  page or `total` contacts seen.
- `GET /contacts/business/{id}` continues at `skip` + what was read, until `count`.

A server that hands back a cursor it already gave would make a naive loop run forever (Pipedream
had exactly that bug with HighLevel, PipedreamHQ/pipedream#21944): `iter_pages` raises
`PaginationLoopError` instead, before yielding the repeated page.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import JsonValue

from leadwire.connectors.contacts.wire.listing import ContactsPage, SearchPage
from leadwire.errors import DecodeError, FatalError

logger = logging.getLogger(__name__)

P = TypeVar("P")
C = TypeVar("C", bound=Hashable)

DEFAULT_MAX_PAGES = 10_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class PaginationLoopError(FatalError):
    """The server repeated a cursor (or never stopped); following it would loop forever."""


@dataclass(frozen=True, slots=True)
class ListCursor:
    """Where the next page of `GET /contacts/` starts."""

    start_after: int
    start_after_id: str


SearchCursor = tuple[str, ...]
"""A search's `searchAfter`, each value as JSON text (hashable, and exactly what was sent)."""


def epoch_ms(value: datetime) -> int:
    """Return an aware time as milliseconds since the epoch, as `startAfter` carries it."""
    return (value - EPOCH) // timedelta(milliseconds=1)


def next_list_cursor(page: ContactsPage, limit: int, seen: int) -> ListCursor | None:
    """Return the cursor after `page` (`seen` contacts so far, this page included), or None."""
    if not page.contacts:
        return None
    meta = page.meta
    if meta is not None:
        if meta.next_page_url is None and meta.next_page is None:
            return None
        if meta.total is not None and seen >= meta.total:
            return None
        if meta.start_after is not None and meta.start_after_id:
            return ListCursor(meta.start_after, meta.start_after_id)
    elif len(page.contacts) < limit:
        return None
    last = page.contacts[-1]
    if last.date_added is None:
        raise DecodeError("get-contacts: the last contact of a page has no dateAdded to go on from")
    return ListCursor(epoch_ms(last.date_added), last.id)


def next_search_cursor(
    page: SearchPage, page_limit: int, seen: int, dump: Callable[[JsonValue], str]
) -> SearchCursor | None:
    """Return the `searchAfter` after `page`, or None when the search is done."""
    if len(page.contacts) < page_limit or (page.total is not None and seen >= page.total):
        return None
    after = page.contacts[-1].search_after
    if not after:
        raise DecodeError("search-contacts-advanced: the last contact has no searchAfter")
    return tuple(dump(value) for value in after)


def next_skip(count: int | None, got: int, limit: int, skip: int) -> int | None:
    """Return the `skip` of the next by-business page, or None when done."""
    if got < limit or got == 0:
        return None
    following = skip + got
    return None if count is not None and following >= count else following


def _fingerprint(cursor: Hashable) -> str:
    # Cursors may carry personal data (a sort on email): errors name a digest, not the value.
    return hashlib.sha256(repr(cursor).encode()).hexdigest()[:12]


def iter_pages(
    fetch: Callable[[C | None], P],
    next_cursor: Callable[[P], C | None],
    operation: str,
    *,
    max_pages: int = DEFAULT_MAX_PAGES,
) -> Iterator[P]:
    """Yield `fetch(cursor)` from the first page until `next_cursor` says there is no more."""
    seen: set[C] = set()
    cursor: C | None = None
    for number in range(1, max_pages + 1):
        page = fetch(cursor)
        following = next_cursor(page)
        if following is not None and following in seen:
            logger.error(
                "contacts.pages.loop operation=%s page=%d cursor_sha=%s",
                operation,
                number,
                _fingerprint(following),
            )
            raise PaginationLoopError(
                f"{operation}: the server returned cursor {_fingerprint(following)} (sha256 "
                f"prefix) a second time, on page {number}; stopping instead of looping"
            )
        yield page
        if following is None:
            logger.debug("contacts.pages.done operation=%s pages=%d", operation, number)
            return
        seen.add(following)
        cursor = following
    raise PaginationLoopError(f"{operation}: still paginating after {max_pages} pages; stopping")
