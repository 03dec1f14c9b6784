"""Query parameters of the contact lists (`GET /contacts/`, by business) and their answers.

Numbers in query strings are parsed here rather than by FastAPI so that what real clients
send is accepted (`limit=20.0` from the generated client, `limit` as a string per the spec)
and what is refused gets class-validator's messages.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from leadwire.crm.errors import unprocessable
from leadwire.crm.ids import is_valid_id
from leadwire.crm.models import Contact
from leadwire.crm.wire.contacts import contact_wire

LIST_LIMIT_DEFAULT = 20
LIST_LIMIT_MAX = 100
BUSINESS_LIMIT_DEFAULT = 25
BUSINESS_LIMIT_MAX = 100
QUERY_MAX = 200


def parse_number(name: str, raw: str) -> float:
    """Return the finite number `raw` spells; 422 naming `name` if it spells none."""
    try:
        value = float(raw.strip())
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise unprocessable(f"{name} must be a number conforming to the specified constraints")
    return value


def parse_count(
    name: str, raw: str | None, *, default: int, minimum: int, maximum: int | None
) -> int:
    """Return a whole number from a query string (`"20"` and `"20.0"` alike) within bounds."""
    if raw is None or raw.strip() == "":
        return default
    value = parse_number(name, raw)
    if value != int(value):
        raise unprocessable(f"{name} must be an integer number")
    if value < minimum:
        raise unprocessable(f"{name} must not be less than {minimum}")
    if maximum is not None and value > maximum:
        raise unprocessable(f"{name} must not be greater than {maximum}")
    return int(value)


def parse_query(raw: str | None) -> str | None:
    """Return the search text with whitespace collapsed, None if blank; 422 if too long."""
    if raw is None:
        return None
    text = " ".join(raw.split())
    if len(text) > QUERY_MAX:
        raise unprocessable(f"query must be shorter than or equal to {QUERY_MAX} characters")
    return text or None


@dataclass(frozen=True)
class Cursor:
    """Where a page of `GET /contacts/` starts: after this dateAdded (and id, when given)."""

    after: datetime | None
    after_id: str | None


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def epoch_ms(value: datetime) -> int:
    """Return `value` as milliseconds since the epoch, as `startAfter` carries it."""
    # Integer arithmetic: going through a float timestamp can land one millisecond short.
    return (value - EPOCH) // timedelta(milliseconds=1)


def from_epoch_ms(millis: int) -> datetime:
    """Return the UTC time `millis` milliseconds after the epoch."""
    return EPOCH + timedelta(milliseconds=millis)


def parse_cursor(start_after: str | None, start_after_id: str | None) -> Cursor | None:
    """Return the cursor of `startAfter` (epoch ms) and `startAfterId`, None if neither."""
    after: datetime | None = None
    if start_after is not None and start_after.strip() != "":
        millis = parse_number("startAfter", start_after)
        if millis < 0 or millis != int(millis) or millis > 253_402_300_799_999:
            raise unprocessable("startAfter must be a time in milliseconds since the epoch")
        after = from_epoch_ms(int(millis))
    after_id = start_after_id.strip() if start_after_id and start_after_id.strip() else None
    if after_id is not None and not is_valid_id(after_id):
        raise unprocessable("startAfterId must be the id of a contact (20 letters and digits)")
    if after is None and after_id is None:
        return None
    return Cursor(after, after_id)


def list_item_wire(contact: Contact, tags: list[str]) -> dict[str, Any]:
    """Return a contact as the lists show it: the full contact plus its `attributions`."""
    wire = contact_wire(contact, tags)
    wire["attributions"] = [
        source for source in (wire["attributionSource"], wire["lastAttributionSource"]) if source
    ]
    return wire


def next_page_url(
    base_url: str, location_id: str, last: Contact, limit: int | None, query: str | None
) -> str:
    """Return the absolute URL of the next page; it keeps `locationId` (see n8n#11353)."""
    params: dict[str, str | int] = {
        "locationId": location_id,
        "startAfter": epoch_ms(last.date_added),
        "startAfterId": last.id,
    }
    if limit is not None:
        params["limit"] = limit
    if query:
        params["query"] = query
    return f"{base_url.rstrip('/')}/contacts/?{urlencode(params)}"
