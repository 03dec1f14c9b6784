"""Contacts API routes that list contacts: the deprecated list, by business, duplicate look-up."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Query, Request
from fastapi.responses import JSONResponse

from leadwire.crm.deps import ReadDb, Reader, Runtime, check_location
from leadwire.crm.errors import CrmError
from leadwire.crm.models import Location
from leadwire.crm.records.contacts import tags_of, tags_of_many
from leadwire.crm.records.listing import business_page, list_page
from leadwire.crm.records.matching import IDENTITY_FIELDS, find_duplicate, identity_order
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.contacts import contact_wire, normalise_email, normalise_phone
from leadwire.crm.wire.listing import (
    BUSINESS_LIMIT_DEFAULT,
    BUSINESS_LIMIT_MAX,
    LIST_LIMIT_DEFAULT,
    LIST_LIMIT_MAX,
    epoch_ms,
    list_item_wire,
    next_page_url,
    parse_count,
    parse_cursor,
    parse_query,
)

router = CrmRouter(prefix="/contacts", tags=["Contacts"])

# Raw strings: the parsing (and its messages) is wire.listing's.
Text = Annotated[str | None, Query()]


def _items(db: ReadDb, contacts: list[Any]) -> list[dict[str, Any]]:
    tags = tags_of_many(db, [contact.id for contact in contacts])
    return [list_item_wire(contact, tags[contact.id]) for contact in contacts]


@router.get("/", operation_id="get-contacts", deprecated=True)
def list_contacts(
    request: Request,
    caller: Reader,
    db: ReadDb,
    rt: Runtime,
    locationId: Text = None,  # noqa: N803 - wire names
    startAfterId: Text = None,  # noqa: N803
    startAfter: Text = None,  # noqa: N803
    query: Text = None,
    limit: Text = None,
) -> JSONResponse:
    """List the location's contacts newest first, `limit` at a time after a cursor."""
    location_id = check_location(caller, locationId)
    size = parse_count(
        "limit", limit, default=LIST_LIMIT_DEFAULT, minimum=1, maximum=LIST_LIMIT_MAX
    )
    text = parse_query(query)
    cursor = parse_cursor(startAfter, startAfterId)
    page = list_page(db, location_id, query=text, limit=size, cursor=cursor)
    last = page.contacts[-1] if page.contacts else None
    current = page.offset // size + 1
    base = rt.settings.crm_public_url or str(request.base_url)
    meta = {
        "total": page.total,
        "nextPageUrl": (
            next_page_url(base, location_id, last, size if limit else None, text)
            if page.has_more and last is not None
            else None
        ),
        "startAfterId": last.id if last is not None else None,
        "startAfter": epoch_ms(last.date_added) if last is not None else None,
        "currentPage": current,
        "nextPage": current + 1 if page.has_more else None,
        "prevPage": current - 1 if current > 1 else None,
    }
    return JSONResponse({"contacts": _items(db, page.contacts), "count": page.total, "meta": meta})


@router.get("/business/{businessId}", operation_id="get-contacts-by-businessId")
def list_business_contacts(
    businessId: str,  # noqa: N803 - wire names
    caller: Reader,
    db: ReadDb,
    locationId: Text = None,  # noqa: N803
    limit: Text = None,
    skip: Text = None,
    query: Text = None,
) -> JSONResponse:
    """List the contacts of a business, `limit` at a time after the first `skip`."""
    location_id = check_location(caller, locationId)
    size = parse_count(
        "limit", limit, default=BUSINESS_LIMIT_DEFAULT, minimum=1, maximum=BUSINESS_LIMIT_MAX
    )
    offset = parse_count("skip", skip, default=0, minimum=0, maximum=None)
    contacts, total = business_page(
        db, location_id, businessId, query=parse_query(query), limit=size, skip=offset
    )
    return JSONResponse({"contacts": _items(db, contacts), "count": total})


@router.get("/search/duplicate", operation_id="get-duplicate-contact")
def find_duplicate_contact(
    caller: Reader,
    db: ReadDb,
    locationId: Text = None,  # noqa: N803 - wire names
    number: Text = None,
    email: Text = None,
) -> JSONResponse:
    """Return the contact a new one with this email or phone would duplicate, or null."""
    location_id = check_location(caller, locationId)
    if not (number and number.strip()) and not (email and email.strip()):
        raise CrmError(400, "Pass at least one of number, email query parameter")
    location = db.get(Location, location_id)
    assert location is not None
    # With duplicates allowed HighLevel looks up email, then phone; otherwise the location's
    # own identifying fields in its order.
    order = list(IDENTITY_FIELDS) if location.allow_duplicates else identity_order(location)
    found = find_duplicate(db, location, _lookup_email(email), _lookup_phone(number), order=order)
    if found is None:
        return JSONResponse({"contact": None})
    contact = found[0]
    return JSONResponse({"contact": contact_wire(contact, tags_of(db, contact.id))})


def _lookup_email(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    text = raw.strip()
    # An unencoded `+` arrives as a space (the spec asks clients to encode it; many don't).
    if " " in text and "+" not in text:
        text = text.replace(" ", "+")
    try:
        return normalise_email(text)
    except ValueError:
        return text.lower()


def _lookup_phone(raw: str | None) -> str | None:
    if not raw or not raw.strip():
        return None
    try:
        return normalise_phone(raw.strip())
    except ValueError:
        return raw.strip()
