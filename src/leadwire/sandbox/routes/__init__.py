"""The sandbox's routes, one module per noun; `registry.ROUTERS` lists them for the app."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from leadwire.sandbox.gate import PinterestRoute
from leadwire.sandbox.ids import is_digits
from leadwire.sandbox.paging import InvalidParameterError

API_PREFIX = "/v5"


def api_router(**kwargs: Any) -> APIRouter:
    """Return a router whose routes enforce their declared security and rate category."""
    return APIRouter(route_class=PinterestRoute, **kwargs)


IdsQuery = Annotated[list[str] | None, Query()]


def id_list(
    name: str, values: list[str] | None, *, limit: int = 250, max_digits: int | None = None
) -> list[str] | None:
    """Return the ids of a list parameter, sent repeated (`a=1&a=2`) or comma-separated.

    Only `campaign_ids` has a length limit in the spec (18); other ids may be any digits, and
    an id the sandbox never minted simply matches nothing.
    """
    if values is None:
        return None
    ids = [part.strip() for value in values for part in value.split(",") if part.strip()]
    if not ids:
        raise InvalidParameterError(f"{name} must hold at least one id.")
    if len(ids) > limit:
        raise InvalidParameterError(f"{name} holds {len(ids)} ids; the limit is {limit}.")
    for value in ids:
        if not is_digits(value):
            raise InvalidParameterError(f"{name} holds {value[:40]!r}, which is not an id.")
        if max_digits is not None and len(value) > max_digits:
            raise InvalidParameterError(f"{name} holds an id of more than {max_digits} digits.")
    return ids
