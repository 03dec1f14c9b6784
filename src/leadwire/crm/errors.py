"""The CRM's error bodies, in HighLevel's (NestJS) shapes, and the exception that carries them."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

REASONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    415: "Unsupported Media Type",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


class CrmError(Exception):
    """An answer other than success: raise it anywhere in a request to send its body."""

    def __init__(
        self,
        status: int,
        message: str | list[str],
        *,
        meta: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message if isinstance(message, str) else "; ".join(message))
        self.status = status
        self.message = message
        self.meta = meta
        self.headers = headers or {}

    def body(self, trace_id: str) -> dict[str, Any]:
        """Return the JSON body: statusCode, message, error (and meta), traceId."""
        body: dict[str, Any] = {"statusCode": self.status, "message": self.message}
        # HighLevel's 400 bodies carry no `error`; 401/403/422 and the rest do.
        if self.status != 400:
            body["error"] = REASONS.get(self.status, HTTPStatus(self.status).phrase)
        if self.meta is not None:
            body["meta"] = self.meta
        body["traceId"] = trace_id
        return body


def not_found(kind: str, item_id: str) -> CrmError:
    """Return the 404 for an id that is not in the caller's location."""
    return CrmError(404, f"{kind} with id {item_id} not found")


def unprocessable(*messages: str) -> CrmError:
    """Return a 422 whose `message` is the list of problems."""
    return CrmError(422, list(messages))


FOREIGN_LOCATION = "The token does not have access to this location."
