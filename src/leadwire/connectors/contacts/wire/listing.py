"""Lists and search: `GET /contacts/` with its `meta`, by business, and `POST /contacts/search`.

The search body is the one HighLevel documents outside its spec (contacts-api.md §5.2): a
`filters` tree of conditions and AND/OR groups, `sort`, and either `page` or `searchAfter`.
Nested models are sent with only the fields set, so a group's `group` and a sort key's
`direction` have no default: say them.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, JsonValue

from leadwire.connectors.contacts.wire.base import WireIn, WireOut
from leadwire.connectors.contacts.wire.contacts import ListedContact, SearchedContact


class ListMeta(WireIn):
    """`meta` of `GET /contacts/` (ContactsMetaSchema): the cursor of the next page."""

    total: int | None = None
    next_page_url: str | None = None
    start_after_id: str | None = None
    start_after: int | None = None
    current_page: int | None = None
    next_page: int | None = None
    prev_page: int | None = None


class ContactsPage(WireIn):
    """One page of `GET /contacts/` or of `GET /contacts/business/{id}`."""

    contacts: list[ListedContact] = Field(default_factory=list)
    count: int | None = None
    meta: ListMeta | None = None


class Operator(StrEnum):
    """Operators of a search condition."""

    EQ = "eq"
    NOT_EQ = "not_eq"
    CONTAINS = "contains"
    NOT_CONTAINS = "not_contains"
    EXISTS = "exists"
    NOT_EXISTS = "not_exists"
    RANGE = "range"


class Condition(WireOut):
    """`{field, operator, value}`; `value` is left out for exists/not_exists."""

    field: str = Field(min_length=1)
    operator: Operator
    value: JsonValue = None


class Combine(StrEnum):
    """How a group combines its filters."""

    AND = "AND"
    OR = "OR"


class FilterGroup(WireOut):
    """`{group: AND|OR, filters: [...]}`."""

    group: Combine
    filters: list[Condition | FilterGroup] = Field(min_length=1)


class Direction(StrEnum):
    """Sort direction."""

    ASC = "asc"
    DESC = "desc"


class SortKey(WireOut):
    """One sort key of a search."""

    field: str
    direction: Direction


class SearchQuery(WireOut):
    """What to search for (SearchBodyV2DTO without `locationId`, `pageLimit`, `page` and
    `searchAfter`, which the client adds per page)."""

    query: str | None = None
    filters: list[Condition | FilterGroup] | None = None
    sort: list[SortKey] | None = None


class SearchPage(WireIn):
    """`{"contacts": [...], "total": n}` of `POST /contacts/search`."""

    contacts: list[SearchedContact] = Field(default_factory=list)
    total: int | None = None
