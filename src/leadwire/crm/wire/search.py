"""`POST /contacts/search`: the body, its filter tree, sort and cursor, checked and parsed.

The body is the one HighLevel documents outside its spec (contacts-api.md §5.2). Filters are
parsed by hand rather than as a pydantic union so that every problem is reported with its
path (`filters.1.filters.0.operator ...`), all at once, in one 422.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import Field

from leadwire.crm.errors import CrmError
from leadwire.crm.models import Contact
from leadwire.crm.wire.common import StrictDto
from leadwire.crm.wire.contacts import contact_wire

PAGE_LIMIT_MAX = 500
# Page-based paging reaches this many results; searchAfter reaches the rest (as HighLevel).
PAGE_WINDOW_MAX = 10_000
VALUE_MAX = 75
GROUP_DEPTH_MAX = 5
CUSTOM_PREFIX = "customFields."

OPERATORS = ("eq", "not_eq", "contains", "not_contains", "exists", "not_exists", "range")
_TEXT = frozenset({"eq", "not_eq", "contains", "not_contains", "exists", "not_exists"})
_EXACT = frozenset({"eq", "not_eq", "exists", "not_exists"})
_DATE = frozenset({"range", "exists", "not_exists"})
KIND_OPERATORS: dict[str, frozenset[str]] = {
    "text": _TEXT,
    "exact": _EXACT,
    "email": _EXACT,
    "phone": _TEXT,
    "tags": _TEXT,
    "bool": _EXACT,
    "followers": _EXACT,
    "date": _DATE,
    "custom": frozenset(OPERATORS),
}
FIELD_KINDS: dict[str, str] = {
    "id": "exact",
    "address": "text",
    "assignedTo": "exact",
    "businessId": "exact",
    "businessName": "text",
    "city": "text",
    "companyName": "text",
    "country": "text",
    "dateAdded": "date",
    "dateUpdated": "date",
    "dnd": "bool",
    "email": "email",
    "firstNameLowerCase": "text",
    "followers": "followers",
    "lastNameLowerCase": "text",
    "phone": "phone",
    "postalCode": "text",
    "source": "text",
    "state": "text",
    "tags": "tags",
    "timezone": "text",
    "type": "text",
    "validEmail": "bool",
    "website": "text",
}
SORT_FIELDS = (
    "firstNameLowerCase",
    "lastNameLowerCase",
    "businessName",
    "dateAdded",
    "dateUpdated",
    "email",
    "dnd",
    "source",
)
RANGE_KEYS = ("gt", "gte", "lt", "lte")


class SortDto(StrictDto):
    """One sort key."""

    field: str
    direction: str = "desc"


class SearchDto(StrictDto):
    """Body of `POST /contacts/search`."""

    locationId: str  # noqa: N815 - wire names
    pageLimit: int = Field(ge=1, le=PAGE_LIMIT_MAX)  # noqa: N815
    page: int | None = Field(default=None, ge=1)
    searchAfter: list[str | int | float | bool | None] | None = Field(  # noqa: N815
        default=None, max_length=10
    )
    filters: list[Any] | None = Field(default=None, max_length=100)
    sort: list[SortDto] | None = Field(default=None, max_length=3)
    # Its length is checked by `check_search_body`: a pydantic message would lose the name `query`.
    query: str | None = None


@dataclass(frozen=True)
class Condition:
    """One `{field, operator, value}` filter; `where` is its path in the body."""

    field: str
    operator: str
    value: Any
    where: str

    @property
    def custom_field(self) -> str | None:
        """Return the custom field id or key this filters on, None for a standard field."""
        return self.field.removeprefix(CUSTOM_PREFIX) if self.is_custom else None

    @property
    def is_custom(self) -> bool:
        """Tell whether this filters on a custom field."""
        return self.field.startswith(CUSTOM_PREFIX)


@dataclass(frozen=True)
class Group:
    """Filters combined with AND or OR."""

    combine: str
    items: tuple[Condition | Group, ...]


@dataclass(frozen=True)
class SortKey:
    """A sort field and its direction."""

    field: str
    descending: bool


def _check_value(field: str, operator: str, value: Any, where: str) -> list[str]:
    kind = "custom" if field.startswith(CUSTOM_PREFIX) else FIELD_KINDS[field]
    if operator not in KIND_OPERATORS[kind]:
        return [f"{where}.operator {operator} is not supported for field {field}"]
    if operator in ("exists", "not_exists"):
        return []
    if operator == "range":
        if not isinstance(value, dict) or not value or set(value) - set(RANGE_KEYS):
            return [f"{where}.value must be an object with any of {', '.join(RANGE_KEYS)}"]
        return []
    if field == "tags" and operator in ("eq", "not_eq") and isinstance(value, list):
        if value and all(isinstance(v, str) and 0 < len(v) <= VALUE_MAX for v in value):
            return []
        return [f"{where}.value must be a tag or a non-empty array of tags"]
    if kind == "bool":
        return [] if isinstance(value, bool) else [f"{where}.value must be a boolean value"]
    if operator in ("contains", "not_contains") and not isinstance(value, str):
        return [f"{where}.value must be a string"]
    if not isinstance(value, str | int | float) or (isinstance(value, bool) and kind != "custom"):
        return [f"{where}.value must be a string or a number"]
    if isinstance(value, str) and not 0 < len(value) <= VALUE_MAX:
        return [f"{where}.value must be 1 to {VALUE_MAX} characters"]
    return []


def _parse_condition(item: dict[str, Any], where: str, problems: list[str]) -> Condition | None:
    extra = sorted(set(item) - {"field", "operator", "value"})
    found = [f"{where} property {name} should not exist" for name in extra]
    field, operator = item.get("field"), item.get("operator")
    if not isinstance(field, str) or not field:
        found.append(f"{where}.field should not be empty")
        field = None
    elif field not in FIELD_KINDS and not (
        field.startswith(CUSTOM_PREFIX) and len(field) > len(CUSTOM_PREFIX)
    ):
        found.append(f"{where}.field {field!r} is not a field contacts can be filtered on")
    if not isinstance(operator, str) or operator not in OPERATORS:
        found.append(
            f"{where}.operator {operator!r} is not an operator; use one of {', '.join(OPERATORS)}"
        )
        operator = None
    if found or field is None or operator is None:
        problems.extend(found)
        return None
    found = _check_value(field, operator, item.get("value"), where)
    problems.extend(found)
    return None if found else Condition(field, operator, item.get("value"), where)


def _parse_items(
    raw: list[Any], where: str, depth: int, problems: list[str]
) -> tuple[Condition | Group, ...]:
    items: list[Condition | Group] = []
    for index, item in enumerate(raw):
        path = f"{where}.{index}"
        if not isinstance(item, dict):
            problems.append(f"{path} must be an object")
        elif "group" in item:
            parsed = _parse_group(item, path, depth + 1, problems)
            if parsed is not None:
                items.append(parsed)
        else:
            condition = _parse_condition(item, path, problems)
            if condition is not None:
                items.append(condition)
    return tuple(items)


def _parse_group(item: dict[str, Any], where: str, depth: int, problems: list[str]) -> Group | None:
    if depth > GROUP_DEPTH_MAX:
        problems.append(f"{where} nests groups deeper than {GROUP_DEPTH_MAX} levels")
        return None
    extra = sorted(set(item) - {"group", "filters"})
    problems.extend(f"{where} property {name} should not exist" for name in extra)
    combine = item.get("group")
    if not isinstance(combine, str) or combine.upper() not in ("AND", "OR"):
        problems.append(f"{where}.group must be one of the following values: AND, OR")
        return None
    inner = item.get("filters")
    if not isinstance(inner, list) or not inner:
        problems.append(f"{where}.filters must be a non-empty array")
        return None
    return Group(combine.upper(), _parse_items(inner, f"{where}.filters", depth, problems))


def parse_filters(raw: list[Any] | None) -> Group:
    """Return the filter tree (top level ANDed); 422 listing every problem in it."""
    problems: list[str] = []
    items = _parse_items(raw or [], "filters", 0, problems)
    if problems:
        raise CrmError(422, problems)
    return Group("AND", items)


def parse_sort(raw: list[SortDto] | None) -> list[SortKey]:
    """Return the sort keys (default: dateAdded, newest first); 422 for an unknown one."""
    problems: list[str] = []
    keys: list[SortKey] = []
    for index, item in enumerate(raw or []):
        if item.field not in SORT_FIELDS:
            problems.append(
                f"sort.{index}.field {item.field!r} cannot be sorted on; "
                f"use one of {', '.join(SORT_FIELDS)}"
            )
        direction = item.direction.lower()
        if direction not in ("asc", "desc"):
            problems.append(
                f"sort.{index}.direction must be one of the following values: asc, desc"
            )
        keys.append(SortKey(item.field, direction == "desc"))
    if problems:
        raise CrmError(422, problems)
    return keys or [SortKey("dateAdded", True)]


def check_search_body(body: SearchDto) -> None:
    """Refuse `page` with `searchAfter`, pages past the 10,000th result, too long a query."""
    if body.query is not None and len(body.query) > VALUE_MAX:
        raise CrmError(422, [f"query must be shorter than or equal to {VALUE_MAX} characters"])
    if body.page is not None and body.searchAfter is not None:
        raise CrmError(422, ["page and searchAfter cannot be used together; send one of them"])
    if body.page is not None and body.page * body.pageLimit > PAGE_WINDOW_MAX:
        raise CrmError(
            422,
            [
                f"page * pageLimit must not exceed {PAGE_WINDOW_MAX}; "
                "use searchAfter to read further"
            ],
        )


_CURSOR_PROBLEM = "searchAfter must be the searchAfter of a contact this search returned"


def parse_search_after(raw: list[Any] | None, keys: list[SortKey]) -> list[Any] | None:
    """Return the cursor's values (one per sort key, then the id); 422 if it cannot be one."""
    if raw is None:
        return None
    if len(raw) != len(keys) + 1 or not isinstance(raw[-1], str):
        raise CrmError(422, [_CURSOR_PROBLEM])
    for key, value in zip(keys, raw, strict=False):
        if key.field in ("dateAdded", "dateUpdated"):
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif key.field == "dnd":
            ok = isinstance(value, bool)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise CrmError(422, [_CURSOR_PROBLEM])
    return list(raw)


def search_item_wire(contact: Contact, tags: list[str], cursor: list[Any]) -> dict[str, Any]:
    """Return a contact as search results show it, with the cursor that continues after it."""
    wire = contact_wire(contact, tags)
    wire.update(
        {
            "address": contact.address1,
            "businessName": contact.company_name,
            "validEmail": contact.email is not None,
            "additionalEmails": [],
            "additionalPhones": [],
            "opportunities": [],
            "searchAfter": cursor,
        }
    )
    return wire
