"""Contacts API route `POST /contacts/search`.

A read: it takes `contacts.readonly` and a read session, though it is a POST.
"""

from __future__ import annotations

from fastapi.responses import JSONResponse

from leadwire.crm.deps import ReadDb, Reader, check_location
from leadwire.crm.records.contacts import tags_of_many
from leadwire.crm.records.search import custom_fields_named, search_page, tree_condition
from leadwire.crm.routes import CrmRouter
from leadwire.crm.wire.search import (
    SearchDto,
    check_search_body,
    parse_filters,
    parse_search_after,
    parse_sort,
    search_item_wire,
)

router = CrmRouter(prefix="/contacts", tags=["Search"])


@router.post("/search", operation_id="search-contacts-advanced")
def search_contacts(body: SearchDto, caller: Reader, db: ReadDb) -> JSONResponse:
    """Return the contacts meeting the filters and query, sorted, a page at a time."""
    location_id = check_location(caller, body.locationId)
    check_search_body(body)
    tree = parse_filters(body.filters)
    sort = parse_sort(body.sort)
    search_after = parse_search_after(body.searchAfter, sort)
    custom = custom_fields_named(db, location_id, tree)
    page = search_page(
        db,
        location_id,
        tree=tree_condition(tree, custom),
        query=" ".join(body.query.split()) if body.query else None,
        sort=sort,
        limit=body.pageLimit,
        offset=0 if search_after is not None else ((body.page or 1) - 1) * body.pageLimit,
        search_after=search_after,
    )
    tags = tags_of_many(db, [contact.id for contact in page.contacts])
    contacts = [
        search_item_wire(contact, tags[contact.id], cursor)
        for contact, cursor in zip(page.contacts, page.cursors, strict=True)
    ]
    return JSONResponse({"contacts": contacts, "total": page.total})
