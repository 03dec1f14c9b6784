"""Pages of a location's contacts: the deprecated list (keyset) and a business's (offset).

Lists are newest first, ordered by (dateAdded, id) descending: HighLevel lists newest first,
and the id breaks ties so that a (dateAdded, id) cursor names exactly one position. A page
is read with one row more than asked to learn whether another page follows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError
from leadwire.crm.models import Contact, ContactTag
from leadwire.crm.wire.listing import Cursor

_PHONE_PUNCTUATION = re.compile(r"[\s().\-+]")
NEWEST_FIRST = (Contact.date_added.desc(), Contact.id.desc())


def like_pattern(text: str) -> str:
    """Return a LIKE pattern matching `text` (lower-cased) anywhere; `\\` escapes."""
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def lower_contains(column: ColumnElement[str] | object, pattern: str) -> ColumnElement[bool]:
    """Return `lower(column) LIKE pattern`, the same on SQLite and PostgreSQL."""
    return func.lower(column).like(pattern, escape="\\")


def query_condition(query: str) -> ColumnElement[bool]:
    """Return what `query` matches: name, email, phone, company or a tag, case-insensitive."""
    pattern = like_pattern(query)
    full_name = func.coalesce(Contact.first_name, "") + " " + func.coalesce(Contact.last_name, "")
    matches: list[ColumnElement[bool]] = [
        lower_contains(full_name, pattern),
        lower_contains(Contact.name, pattern),
        Contact.email_lower.like(pattern, escape="\\"),
        lower_contains(Contact.company_name, pattern),
        exists().where(
            ContactTag.contact_id == Contact.id, ContactTag.tag.like(pattern, escape="\\")
        ),
    ]
    digits = _PHONE_PUNCTUATION.sub("", query)
    if digits.isdigit():
        # Phones are stored in E.164: match the digits whatever punctuation the query has.
        matches.append(Contact.phone.like(f"%{digits}%"))
    return or_(*matches)


def _scope(location_id: str, query: str | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = [Contact.location_id == location_id]
    if query:
        conditions.append(query_condition(query))
    return conditions


def count_where(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    """Return how many contacts meet every condition."""
    return int(session.scalar(select(func.count()).select_from(Contact).where(*conditions)) or 0)


@dataclass(frozen=True)
class ListPage:
    """One page of the deprecated list."""

    contacts: list[Contact]
    total: int
    # How many contacts come before this page in the whole list.
    offset: int
    has_more: bool


def resolve_cursor(session: Session, location_id: str, cursor: Cursor) -> Cursor:
    """Fill in a cursor given by `startAfterId` alone from that contact's dateAdded."""
    if cursor.after is not None or cursor.after_id is None:
        return cursor
    added = session.scalar(
        select(Contact.date_added).where(
            Contact.id == cursor.after_id, Contact.location_id == location_id
        )
    )
    if added is None:
        raise CrmError(400, f"startAfterId {cursor.after_id} is not a contact of this location")
    return Cursor(added, cursor.after_id)


def _after(cursor: Cursor) -> ColumnElement[bool]:
    assert cursor.after is not None
    if cursor.after_id is None:
        return Contact.date_added < cursor.after
    return or_(
        Contact.date_added < cursor.after,
        and_(Contact.date_added == cursor.after, Contact.id < cursor.after_id),
    )


def list_page(
    session: Session, location_id: str, *, query: str | None, limit: int, cursor: Cursor | None
) -> ListPage:
    """Return the page of `limit` contacts after `cursor`, with the list's total."""
    scope = _scope(location_id, query)
    page_query: Select[Contact] = select(Contact).where(*scope)
    offset = 0
    if cursor is not None:
        cursor = resolve_cursor(session, location_id, cursor)
        page_query = page_query.where(_after(cursor))
        offset = count_where(session, [*scope, ~_after(cursor)])
    rows = list(session.scalars(page_query.order_by(*NEWEST_FIRST).limit(limit + 1)))
    total = count_where(session, scope)
    return ListPage(rows[:limit], total, offset, len(rows) > limit)


def business_page(
    session: Session,
    location_id: str,
    business_id: str,
    *,
    query: str | None,
    limit: int,
    skip: int,
) -> tuple[list[Contact], int]:
    """Return `limit` contacts of the business after the first `skip`, and how many it has."""
    scope = [*_scope(location_id, query), Contact.business_id == business_id]
    rows = session.scalars(
        select(Contact).where(*scope).order_by(*NEWEST_FIRST).offset(skip).limit(limit)
    )
    return list(rows), count_where(session, scope)
