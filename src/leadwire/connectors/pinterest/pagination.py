"""Bookmark pagination: follow `bookmark` until it is null, and never go round in circles.

A server that hands back a bookmark it already gave would make a naive loop run forever (and
burn the daily quota); here it raises `PaginationLoopError` naming the operation instead.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator
from typing import TypeVar

from leadwire.connectors.pinterest.wire.pages import Page
from leadwire.errors import FatalError

logger = logging.getLogger(__name__)

T = TypeVar("T")

MIN_PAGE_SIZE = 1
MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 25
DEFAULT_MAX_PAGES = 10_000

FetchPage = Callable[[str | None], Page[T]]


class PaginationLoopError(FatalError):
    """The server repeated a bookmark (or never stopped); following it would loop forever."""


def check_page_size(page_size: int) -> int:
    """Return `page_size` if Pinterest accepts it (1-250), else raise `ValueError`."""
    if isinstance(page_size, bool) or not MIN_PAGE_SIZE <= page_size <= MAX_PAGE_SIZE:
        raise ValueError(f"page_size must be {MIN_PAGE_SIZE}-{MAX_PAGE_SIZE}, not {page_size!r}")
    return page_size


def _fingerprint(bookmark: str) -> str:
    # Bookmarks are opaque and may be long; an error names a short digest, not the whole value.
    return hashlib.sha256(bookmark.encode()).hexdigest()[:12]


def iter_pages(
    fetch: FetchPage[T], operation: str, *, max_pages: int = DEFAULT_MAX_PAGES
) -> Iterator[Page[T]]:
    """Yield each page `fetch(bookmark)` returns, from the first until a null bookmark."""
    seen: set[str] = set()
    bookmark: str | None = None
    for number in range(1, max_pages + 1):
        page = fetch(bookmark)
        yield page
        if not page.bookmark:
            logger.debug("pinterest.pages.done operation=%s pages=%d", operation, number)
            return
        if page.bookmark in seen:
            logger.error(
                "pinterest.pages.loop operation=%s page=%d bookmark_sha=%s",
                operation,
                number,
                _fingerprint(page.bookmark),
            )
            raise PaginationLoopError(
                f"{operation}: Pinterest returned bookmark {_fingerprint(page.bookmark)} "
                f"(sha256 prefix) a second time, on page {number}; stopping instead of looping"
            )
        seen.add(page.bookmark)
        bookmark = page.bookmark
    raise PaginationLoopError(f"{operation}: still paginating after {max_pages} pages; stopping")


def iter_items(
    fetch: FetchPage[T], operation: str, *, max_pages: int = DEFAULT_MAX_PAGES
) -> Iterator[T]:
    """Yield every item of every page, lazily."""
    for page in iter_pages(fetch, operation, max_pages=max_pages):
        yield from page.items
