"""Bookmark pagination: `page_size` 1 to 250 (default 25), an opaque `bookmark`, `null` at the end.

A bookmark is keyset-based: it carries the last id served and the sort direction, so every page
starts strictly after the previous one — a cursor can never repeat or loop, and rows added while
a client pages do not shift it. Ids all have the same length, so string order is id order.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Query
from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from leadwire.sandbox.ids import is_id

MAX_PAGE_SIZE = 250
DEFAULT_PAGE_SIZE = 25
_PREFIX = "lw1"


class Order(StrEnum):
    """The spec's `order` parameter: by id."""

    ASCENDING = "ASCENDING"
    DESCENDING = "DESCENDING"


class InvalidParameterError(Exception):
    """A request parameter is wrong in a way only the handler can see (turned into a 400)."""


class _HasId(Protocol):
    id: Any


Row = TypeVar("Row", bound=_HasId)


@dataclass(frozen=True, slots=True)
class PageRequest:
    """The page a client asked for."""

    size: int
    bookmark: str | None
    order: Order = Order.ASCENDING

    def after(self) -> str | None:
        """Return the last id of the previous page, or None on the first page."""
        if self.bookmark is None:
            return None
        try:
            text = base64.urlsafe_b64decode(self.bookmark + "=" * (-len(self.bookmark) % 4))
            prefix, order, last = text.decode("ascii").split("|")
        except (binascii.Error, ValueError, UnicodeDecodeError):
            raise InvalidParameterError(self._invalid()) from None
        if prefix != _PREFIX or not is_id(last) or order not in Order.__members__:
            raise InvalidParameterError(self._invalid())
        if order != self.order.value:
            raise InvalidParameterError(
                f"bookmark was made for order={order}; send the same order to continue."
            )
        return last

    def _invalid(self) -> str:
        shown = repr((self.bookmark or "")[:40])
        return f"bookmark {shown} is not one this API returned; start again without it."


def make_bookmark(last_id: str, order: Order) -> str:
    """Return the bookmark of the page after the one ending at `last_id`."""
    raw = f"{_PREFIX}|{order.value}|{last_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _page(
    page_size: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_PAGE_SIZE,
            description="Maximum number of items to include in a single page.",
        ),
    ] = DEFAULT_PAGE_SIZE,
    bookmark: Annotated[
        str | None, Query(max_length=200, description="Cursor used to fetch the next page.")
    ] = None,
) -> PageRequest:
    return PageRequest(page_size, bookmark or None)


def _ordered_page(
    page_size: Annotated[
        int,
        Query(
            ge=1,
            le=MAX_PAGE_SIZE,
            description="Maximum number of items to include in a single page.",
        ),
    ] = DEFAULT_PAGE_SIZE,
    bookmark: Annotated[
        str | None, Query(max_length=200, description="Cursor used to fetch the next page.")
    ] = None,
    order: Annotated[Order | None, Query(description="Sort by id.")] = None,
) -> PageRequest:
    return PageRequest(page_size, bookmark or None, order or Order.ASCENDING)


Page = Annotated[PageRequest, Depends(_page)]
OrderedPage = Annotated[PageRequest, Depends(_ordered_page)]


def fetch_page(
    db: Session, stmt: Select[Row], id_column: InstrumentedAttribute[str], page: PageRequest
) -> tuple[Sequence[Row], str | None]:
    """Return one page of `stmt`'s rows and the bookmark of the next page (None at the end)."""
    after = page.after()
    descending = page.order is Order.DESCENDING
    if after is not None:
        stmt = stmt.where(id_column < after if descending else id_column > after)
    stmt = stmt.order_by(id_column.desc() if descending else id_column.asc()).limit(page.size + 1)
    rows = db.scalars(stmt).all()
    if len(rows) <= page.size:
        return rows, None
    rows = rows[: page.size]
    return rows, make_bookmark(str(rows[-1].id), page.order)


def page_body(items: list[dict[str, Any]], bookmark: str | None) -> dict[str, Any]:
    """Return the paginated body `{"items": [...], "bookmark": ...}`."""
    return {"items": items, "bookmark": bookmark}
