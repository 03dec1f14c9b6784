"""Contact search: the filter tree of `POST /contacts/search` as SQL, sorted, paged by keyset.

Everything runs in the database, written once for SQLite and PostgreSQL: text through
`lower()` and `LIKE`, tags through `EXISTS` on crm_contact_tags, followers through the JSON
text of their column, custom fields through SQLAlchemy's JSON accessors (`JSON_EXTRACT` on
SQLite, `->>` on PostgreSQL). Sort keys have no NULLs (`coalesce`), because the two databases
order NULLs differently and a cursor must mean the same row on both.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from operator import ge, gt, le, lt
from typing import Any

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    cast,
    exists,
    false,
    func,
    literal,
    or_,
    select,
    true,
)
from sqlalchemy.orm import Session

from leadwire.crm.errors import CrmError
from leadwire.crm.ids import is_valid_id
from leadwire.crm.models import Contact, ContactTag, CustomField
from leadwire.crm.records.custom_fields import LISTS, NUMBERS, ONE_OF, check_value
from leadwire.crm.records.listing import count_where, like_pattern, lower_contains, query_condition
from leadwire.crm.wire.contacts import normalise_phone, normalise_tag
from leadwire.crm.wire.dates import parse_iso_datetime
from leadwire.crm.wire.listing import epoch_ms, from_epoch_ms
from leadwire.crm.wire.search import Condition, Group, SortKey

_COLUMNS: dict[str, Any] = {
    "id": Contact.id,
    "address": Contact.address1,
    "assignedTo": Contact.assigned_to,
    "businessId": Contact.business_id,
    "businessName": Contact.company_name,
    "city": Contact.city,
    "companyName": Contact.company_name,
    "country": Contact.country,
    "dateAdded": Contact.date_added,
    "dateUpdated": Contact.date_updated,
    "email": Contact.email_lower,
    "firstNameLowerCase": Contact.first_name,
    "lastNameLowerCase": Contact.last_name,
    "phone": Contact.phone,
    "postalCode": Contact.postal_code,
    "source": Contact.source,
    "state": Contact.state,
    "timezone": Contact.timezone,
    "type": Contact.type,
    "website": Contact.website,
}
_EXACT = frozenset({"id", "assignedTo", "businessId"})
_COMPARE = {"gt": gt, "gte": ge, "lt": lt, "lte": le}
_SORT_EXPRESSIONS: dict[str, Any] = {
    "firstNameLowerCase": func.lower(func.coalesce(Contact.first_name, "")),
    "lastNameLowerCase": func.lower(func.coalesce(Contact.last_name, "")),
    "businessName": func.lower(func.coalesce(Contact.company_name, "")),
    "dateAdded": Contact.date_added,
    "dateUpdated": Contact.date_updated,
    "email": func.coalesce(Contact.email_lower, ""),
    "dnd": Contact.dnd,
    "source": func.lower(func.coalesce(Contact.source, "")),
}


def _refuse(condition: Condition, problem: str) -> CrmError:
    return CrmError(422, [f"{condition.where}.{problem}"])


def _present(expr: Any) -> ColumnElement[bool]:
    return and_(expr.is_not(None), expr != "")


def _text(expr: Any, operator: str, value: Any, *, exact: bool = False) -> ColumnElement[bool]:
    if operator == "exists":
        return _present(expr)
    if operator == "not_exists":
        return ~_present(expr)
    text = str(value)
    if operator in ("contains", "not_contains"):
        match = lower_contains(expr, like_pattern(text))
    elif exact:
        match = expr == text
    else:
        match = func.lower(expr) == func.lower(text)
    if operator in ("eq", "contains"):
        return match
    # A contact without the field is not equal to (and does not contain) any value.
    return or_(expr.is_(None), ~match)


def _bound(condition: Condition, value: Any, *, as_time: bool) -> Any:
    if as_time:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return from_epoch_ms(int(value))
        try:
            parsed = parse_iso_datetime(value)
        except ValueError:
            raise _refuse(condition, "value bounds must be ISO 8601 dates or epoch ms") from None
        assert isinstance(parsed, datetime)
        return parsed
    try:
        if isinstance(value, bool):
            raise TypeError
        return float(value)
    except (TypeError, ValueError):
        raise _refuse(condition, "value must be a number (or an object of number bounds)") from None


def _range(condition: Condition, expr: Any, *, as_time: bool) -> ColumnElement[bool]:
    missing: ColumnElement[bool] = expr.is_(None)
    if condition.operator == "exists":
        return ~missing
    if condition.operator == "not_exists":
        return missing
    if condition.operator != "range":
        number = _bound(condition, condition.value, as_time=as_time)
        return expr == number if condition.operator == "eq" else or_(expr.is_(None), expr != number)
    return and_(
        *(
            _COMPARE[key](expr, _bound(condition, value, as_time=as_time))
            for key, value in condition.value.items()
        )
    )


def _tags(operator: str, value: Any) -> ColumnElement[bool]:
    tagged = exists().where(ContactTag.contact_id == Contact.id)
    if operator in ("exists", "not_exists"):
        return tagged if operator == "exists" else ~tagged
    if operator in ("contains", "not_contains"):
        match = tagged.where(ContactTag.tag.like(like_pattern(str(value)), escape="\\"))
        return match if operator == "contains" else ~match
    wanted = [normalise_tag(v) for v in (value if isinstance(value, list) else [value])]
    match = tagged.where(ContactTag.tag.in_(wanted))
    return match if operator == "eq" else ~match


def _phone(operator: str, value: Any) -> ColumnElement[bool]:
    if operator in ("eq", "not_eq"):
        try:
            value = normalise_phone(str(value)) or str(value)
        except ValueError:
            value = str(value)
        return _text(Contact.phone, operator, value, exact=True)
    if operator in ("contains", "not_contains"):
        value = "".join(ch for ch in str(value) if ch.isdigit()) or str(value)
    return _text(Contact.phone, operator, value)


def _flag(condition: Condition, expr: ColumnElement[bool]) -> ColumnElement[bool]:
    if condition.operator in ("exists", "not_exists"):
        return true() if condition.operator == "exists" else false()
    wanted = bool(condition.value) == (condition.operator == "eq")
    return expr if wanted else ~expr


def _followers(condition: Condition) -> ColumnElement[bool]:
    # The column holds a JSON array of user ids; its text contains `"<id>"` for each one.
    text = cast(Contact.followers, String)
    if condition.operator in ("exists", "not_exists"):
        has_any = and_(text.is_not(None), text != "[]")
        return has_any if condition.operator == "exists" else ~has_any
    if not isinstance(condition.value, str) or not is_valid_id(condition.value):
        raise _refuse(condition, "value must be a user id (20 letters and digits)")
    match = text.like(f'%"{condition.value}"%')
    return match if condition.operator == "eq" else ~match


def _custom(condition: Condition, field: CustomField) -> ColumnElement[bool]:
    path = Contact.custom_fields[field.id]
    kind = field.data_type.upper()
    operator = condition.operator
    if kind in NUMBERS:
        if operator in ("contains", "not_contains"):
            raise _refuse(condition, f"operator {operator} is not supported for a number field")
        return _range(condition, path.as_float(), as_time=False)
    if operator == "range":
        raise _refuse(condition, "operator range is supported for number fields only")
    value = condition.value
    if operator not in ("exists", "not_exists") and (kind in LISTS or kind in ONE_OF):
        try:
            # Match the option as stored: its label, however the filter spells its case.
            value = check_value(field, [value] if kind in LISTS else value)
        except ValueError as exc:
            raise _refuse(condition, f"value {exc}") from None
    text = path.as_string()
    if kind not in LISTS:
        return _text(text, operator, value)
    if operator in ("contains", "not_contains"):
        raise _refuse(condition, f"operator {operator} is not supported for a multi-option field")
    if operator in ("exists", "not_exists"):
        has_any = and_(text.is_not(None), text != "[]")
        return has_any if operator == "exists" else ~has_any
    # The JSON text of the stored array contains the JSON spelling of each of its items.
    item = json.dumps(value[0]).replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    match = text.like(f"%{item}%", escape="\\")
    return match if operator == "eq" else or_(text.is_(None), ~match)


def _condition(condition: Condition, custom: dict[str, CustomField]) -> ColumnElement[bool]:
    field, operator, value = condition.field, condition.operator, condition.value
    if condition.custom_field is not None:
        return _custom(condition, custom[condition.custom_field])
    if field == "tags":
        return _tags(operator, value)
    if field == "phone":
        return _phone(operator, value)
    if field == "followers":
        return _followers(condition)
    if field == "dnd":
        return _flag(condition, Contact.dnd == true())
    if field == "validEmail":
        # Emails are syntax-checked when written, so every stored email is a valid one.
        return _flag(condition, Contact.email_lower.is_not(None))
    if field in ("dateAdded", "dateUpdated"):
        return _range(condition, _COLUMNS[field], as_time=True)
    if field == "email" and operator in ("eq", "not_eq"):
        value = str(value).lower()
    return _text(_COLUMNS[field], operator, value, exact=field in _EXACT)


def tree_condition(group: Group, custom: dict[str, CustomField]) -> ColumnElement[bool]:
    """Return the SQL condition of a filter group (`custom`: the fields it names)."""
    parts = [
        tree_condition(item, custom) if isinstance(item, Group) else _condition(item, custom)
        for item in group.items
    ]
    if not parts:
        return true()
    return and_(*parts) if group.combine == "AND" else or_(*parts)


def _custom_refs(group: Group) -> dict[str, Condition]:
    found: dict[str, Condition] = {}
    for item in group.items:
        if isinstance(item, Group):
            found.update(_custom_refs(item))
        elif item.custom_field is not None:
            found.setdefault(item.custom_field, item)
    return found


def custom_fields_named(session: Session, location_id: str, group: Group) -> dict[str, CustomField]:
    """Return the custom fields the filters name, by the id or key used; 422 for unknown ones."""
    refs = _custom_refs(group)
    if not refs:
        return {}
    defined = list(
        session.scalars(select(CustomField).where(CustomField.location_id == location_id))
    )
    lookup: dict[str, CustomField] = {}
    for field in defined:
        lookup.update(
            {field.key.removeprefix("contact."): field, field.key: field, field.id: field}
        )
    missing = [
        f"{condition.where}.field {condition.field!r} names no custom field of this location"
        for ref, condition in refs.items()
        if ref not in lookup
    ]
    if missing:
        raise CrmError(422, missing)
    return {ref: lookup[ref] for ref in refs}


@dataclass(frozen=True)
class SearchPage:
    """One page of search results, each with the cursor that continues after it."""

    contacts: list[Contact]
    cursors: list[list[Any]]
    total: int


def _after(keys: list[tuple[Any, bool]], values: list[Any]) -> ColumnElement[bool]:
    # Lexicographic "comes after" over the sort keys, each in its own direction.
    alternatives = []
    # Bound explicitly: SQLAlchemy refuses `<` and `>` against a bare True or False (dnd).
    bound = [literal(value) if isinstance(value, bool) else value for value in values]
    for index, (expr, descending) in enumerate(keys):
        earlier = [keys[i][0] == bound[i] for i in range(index)]
        beyond = expr < bound[index] if descending else expr > bound[index]
        alternatives.append(and_(*earlier, beyond))
    return or_(*alternatives)


def _cursor_value(field: str, value: Any) -> Any:
    return epoch_ms(value) if field in ("dateAdded", "dateUpdated") else value


def search_page(
    session: Session,
    location_id: str,
    *,
    tree: ColumnElement[bool],
    query: str | None,
    sort: list[SortKey],
    limit: int,
    offset: int,
    search_after: list[Any] | None,
) -> SearchPage:
    """Return a page of the location's contacts meeting `tree` and `query`, and their total."""
    scope = [Contact.location_id == location_id, tree]
    if query:
        scope.append(query_condition(query))
    keys = [(_SORT_EXPRESSIONS[key.field], key.descending) for key in sort]
    keys.append((Contact.id, sort[0].descending))
    statement = select(Contact, *(expr for expr, _ in keys)).where(*scope)
    if search_after is not None:
        values = [
            from_epoch_ms(v) if key.field in ("dateAdded", "dateUpdated") else v
            for key, v in zip(sort, search_after, strict=False)
        ]
        statement = statement.where(_after(keys, [*values, search_after[-1]]))
    order = [expr.desc() if descending else expr.asc() for expr, descending in keys]
    rows = session.execute(statement.order_by(*order).offset(offset).limit(limit)).all()
    fields = [key.field for key in sort] + ["id"]
    return SearchPage(
        contacts=[row[0] for row in rows],
        cursors=[
            [_cursor_value(f, v) for f, v in zip(fields, row[1:], strict=True)] for row in rows
        ],
        total=count_where(session, scope),
    )
