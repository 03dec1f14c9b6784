"""The Contacts API's routes, one module per noun; `ROUTERS` lists them for the app."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter


class CrmRouter(APIRouter):
    """A router that serves every path with and without a trailing slash, as HighLevel does.

    Clients in the wild send both (`/tags/`, `/appointments/`); a redirect would drop the body
    of a POST in many of them, so both spellings are routes of their own.
    """

    def add_api_route(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        super().add_api_route(path, endpoint, **kwargs)
        twin = path[:-1] if path.endswith("/") else path + "/"
        if twin != path and (twin or self.prefix):
            kwargs["include_in_schema"] = False
            kwargs.pop("operation_id", None)
            super().add_api_route(twin, endpoint, **kwargs)
