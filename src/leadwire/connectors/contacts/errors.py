"""The Contacts API's refusals as leadwire errors: the type says retry-or-not, the fields say why.

Classification (the engine decides from the type alone):

- 429 → `ContactsRateLimitedError` (retryable) with `retry_after_s` and the `budget` it came with.
- 408, 5xx, timeouts, refused or broken connections → `ContactsUnavailableError` (retryable).
- 401 (after the auth flow refreshed once, if it could), 403 (a location not the token's) →
  `ContactsAuthError`.
- 404, and a 400 that says "… with id X not found" (what HighLevel is reported to answer for an
  unknown id) → `ContactsNotFoundError`.
- 400 with `meta.contactId` → `DuplicateContactError` (callers reuse `contact_id`: success).
- any other 4xx → `ContactsBadRequestError` with `status_code`, `message` (text or list) and
  `trace_id`.

Messages are scrubbed (no tokens, emails or phone numbers) before they reach an error or a log.
Every error pickles (DBOS records a failed step's exception).
"""

from __future__ import annotations

import json
import re
from typing import Any

import httpx

from leadwire.connectors.contacts.ratelimits import RateBudget
from leadwire.errors import (
    AuthError,
    BadRequestError,
    LeadwireError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from leadwire.logs import redact_text

_EMAIL = re.compile(r"[^\s@\"'<>,;]+@[^\s@\"'<>,;]+\.[^\s@\"'<>,;]+")
_PHONE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_NOT_FOUND = re.compile(r"(?i)\bwith id \S+ not found")
_MAX_MESSAGE_CHARS = 300

Message = str | list[str]


def scrub(text: str) -> str:
    """Return `text` fit for logs and errors: no bearer tokens, emails or phone numbers, short."""
    text = _PHONE.sub("***", _EMAIL.sub("***", redact_text(text)))
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[:_MAX_MESSAGE_CHARS] + "…"
    return text


def _rebuild(cls: type[ContactsApiError], summary: str, state: dict[str, Any]) -> Any:
    error = cls.__new__(cls)
    Exception.__init__(error, summary)
    error.__dict__.update(state)
    return error


class ContactsApiError(LeadwireError):
    """A call the Contacts API refused or could not answer, with what it said.

    Mixed into one class of each branch of `leadwire.errors`: `except ContactsApiError` gives the
    details, `except RetryableError` still decides the retry.
    """

    def __init__(
        self,
        summary: str,
        *,
        status_code: int | None = None,
        message: Message = "",
        trace_id: str | None = None,
        operation: str = "",
    ) -> None:
        Exception.__init__(self, summary)
        self.status_code = status_code
        self.message = message
        self.trace_id = trace_id
        self.operation = operation

    def __reduce__(self) -> tuple[Any, ...]:
        # Exception pickles as cls(*args), which keyword-only fields cannot survive.
        return (_rebuild, (type(self), str(self), dict(self.__dict__)))


class ContactsAuthError(ContactsApiError, AuthError):
    """The token is wrong, expired beyond refresh, revoked, lacks a scope, or the location is not
    the token's."""


class ContactsBadRequestError(ContactsApiError, BadRequestError):
    """The API refused the request as invalid (400, 422 and other 4xx)."""


class DuplicateContactError(ContactsBadRequestError):
    """`POST /contacts/` refused a duplicate; `contact_id` is the contact it matched."""

    def __init__(
        self,
        summary: str,
        *,
        contact_id: str,
        matching_field: str | None = None,
        **details: Any,
    ) -> None:
        super().__init__(summary, **details)
        self.contact_id = contact_id
        self.matching_field = matching_field


class ContactsNotFoundError(ContactsApiError, NotFoundError):
    """The contact, task, note, campaign or workflow does not exist in the token's location."""


class ContactsUnavailableError(ContactsApiError, UpstreamUnavailableError):
    """The API failed (5xx), timed out or could not be reached."""

    def __init__(self, summary: str, *, retry_after_s: float | None = None, **details: Any) -> None:
        super().__init__(summary, **details)
        self.retry_after_s = retry_after_s


class ContactsRateLimitedError(ContactsApiError, RateLimitedError):
    """The API refused for rate (429); `budget` is what that answer's headers said."""

    def __init__(
        self,
        summary: str,
        *,
        retry_after_s: float | None = None,
        budget: RateBudget | None = None,
        **details: Any,
    ) -> None:
        super().__init__(summary, **details)
        self.retry_after_s = retry_after_s
        self.budget = budget


class ErrorBody:
    """What an error body says, read leniently (NestJS JSON, or anything else)."""

    def __init__(self, response: httpx.Response) -> None:
        self.message: Message = ""
        self.trace_id: str | None = response.headers.get("x-trace-id")
        self.meta: dict[str, Any] = {}
        try:
            body = json.loads(response.content)
        except (ValueError, UnicodeDecodeError, RecursionError):
            self.message = scrub(response.content[:_MAX_MESSAGE_CHARS].decode("utf-8", "replace"))
            return
        if not isinstance(body, dict):
            return
        raw = body.get("message", body.get("error_description", body.get("error")))
        if isinstance(raw, str):
            self.message = scrub(raw)
        elif isinstance(raw, list):
            self.message = [scrub(str(item)) for item in raw]
        if isinstance(body.get("traceId"), str):
            self.trace_id = body["traceId"]
        if isinstance(body.get("meta"), dict):
            self.meta = body["meta"]

    @property
    def text(self) -> str:
        """Return the message as one line."""
        return "; ".join(self.message) if isinstance(self.message, list) else self.message


def error_for_response(
    response: httpx.Response,
    operation: str,
    *,
    retry_after_s: float | None = None,
    budget: RateBudget | None = None,
    after_refresh: bool = False,
) -> ContactsApiError:
    """Return the error a non-2xx `response` to `operation` means."""
    status = response.status_code
    body = ErrorBody(response)
    said = f" ({body.text})" if body.text else ""
    details: dict[str, Any] = {
        "status_code": status,
        "message": body.message,
        "trace_id": body.trace_id,
        "operation": operation,
    }
    if status == 429:
        when = "no wait given" if retry_after_s is None else f"retry in {retry_after_s:.0f} s"
        return ContactsRateLimitedError(
            f"{operation}: rate limited by the Contacts API, {when}{said}",
            retry_after_s=retry_after_s,
            budget=budget,
            **details,
        )
    if status == 408 or status >= 500:
        return ContactsUnavailableError(
            f"{operation}: the Contacts API answered HTTP {status}{said}",
            retry_after_s=retry_after_s,
            **details,
        )
    if status == 401:
        why = (
            "the token was refused even after refreshing it"
            if after_refresh
            else ("the token was refused")
        )
        return ContactsAuthError(f"{operation}: {why} (HTTP 401){said}", **details)
    if status == 403:
        return ContactsAuthError(
            f"{operation}: the token has no access to this location (HTTP 403){said}", **details
        )
    if status == 404 or (status == 400 and _NOT_FOUND.search(body.text)):
        return ContactsNotFoundError(f"{operation}: not found (HTTP {status}){said}", **details)
    contact_id = body.meta.get("contactId")
    if status == 400 and isinstance(contact_id, str) and contact_id:
        field = body.meta.get("matchingField")
        return DuplicateContactError(
            f"{operation}: duplicate of contact {contact_id}"
            f" (matching {field if isinstance(field, str) else 'unknown field'})",
            contact_id=contact_id,
            matching_field=field if isinstance(field, str) else None,
            **details,
        )
    return ContactsBadRequestError(
        f"{operation}: the Contacts API refused the request (HTTP {status}){said}", **details
    )


def error_for_transport(exc: httpx.RequestError, operation: str) -> ContactsUnavailableError:
    """Return the retryable error for a timeout or a connection that failed."""
    kind = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return ContactsUnavailableError(
        f"{operation}: the Contacts API {kind} ({type(exc).__name__})", operation=operation
    )
