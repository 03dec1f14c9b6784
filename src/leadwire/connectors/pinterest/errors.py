"""Pinterest's refusals as leadwire errors: the type says retry-or-not, the fields say why.

Classification (the engine decides from the type alone):

- 429 → `PinterestRateLimitedError` (retryable) with `retry_after_s` from the headers; a wait past
  `DAILY_QUOTA_THRESHOLD_S` sets `is_daily_quota` and says so in the message.
- 408, 5xx, timeouts, refused or broken connections → `PinterestUnavailableError` (retryable).
- 401, 403 → `PinterestAuthError` (fatal; the auth flow has already refreshed once on a 401).
- 404 → `PinterestNotFoundError`; any other 4xx → `PinterestBadRequestError` (fatal).
"""

from __future__ import annotations

import json
import re
from datetime import datetime

import httpx

from leadwire.connectors.pinterest.ratelimits import (
    DAILY_QUOTA_THRESHOLD_S,
    describe_wait,
    is_daily_quota,
    parse_retry_after,
)
from leadwire.errors import (
    AuthError,
    BadRequestError,
    LeadwireError,
    NotFoundError,
    RateLimitedError,
    UpstreamUnavailableError,
)
from leadwire.logs import redact_text

_EMAIL = re.compile(r"[^\s@\"'<>]+@[^\s@\"'<>]+\.[^\s@\"'<>]+")
_PHONE = re.compile(r"\+\d[\d\s().-]{5,}\d")
_MAX_MESSAGE_CHARS = 300


def scrub(text: str) -> str:
    """Return `text` fit for logs and errors: no bearer tokens, emails or phone numbers, short."""
    text = _PHONE.sub("***", _EMAIL.sub("***", redact_text(text)))
    if len(text) > _MAX_MESSAGE_CHARS:
        text = text[:_MAX_MESSAGE_CHARS] + "…"
    return text


class PinterestApiError(LeadwireError):
    """A call Pinterest refused or could not answer; `code`/`message` are Pinterest's own.

    Mixed into one class of each branch of `leadwire.errors`, so `except PinterestApiError` gives
    the details and `except RetryableError` still decides the retry.
    """

    def __init__(
        self,
        summary: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        message: str = "",
    ) -> None:
        Exception.__init__(self, summary)
        self.http_status = http_status
        self.code = code
        self.message = message


class PinterestAuthError(PinterestApiError, AuthError):
    """The token is missing, expired beyond refresh, revoked, or lacks a scope or a permission."""


class PinterestBadRequestError(PinterestApiError, BadRequestError):
    """Pinterest refused the request as invalid."""


class PinterestNotFoundError(PinterestApiError, NotFoundError):
    """The ad account, form, subscription or export does not exist (or is not this user's)."""


class PinterestUnavailableError(PinterestApiError, UpstreamUnavailableError):
    """Pinterest failed (5xx), timed out or could not be reached."""

    def __init__(
        self,
        summary: str,
        *,
        http_status: int | None = None,
        code: int | None = None,
        message: str = "",
        retry_after_s: float | None = None,
    ) -> None:
        super().__init__(summary, http_status=http_status, code=code, message=message)
        self.retry_after_s = retry_after_s


class PinterestRateLimitedError(PinterestApiError, RateLimitedError):
    """Pinterest refused for rate; `is_daily_quota` when the wait is a quota reset, not a burst."""

    def __init__(
        self,
        summary: str,
        *,
        http_status: int | None = 429,
        code: int | None = None,
        message: str = "",
        retry_after_s: float | None = None,
        is_daily_quota: bool = False,
    ) -> None:
        super().__init__(summary, http_status=http_status, code=code, message=message)
        self.retry_after_s = retry_after_s
        self.is_daily_quota = is_daily_quota


def read_error_body(response: httpx.Response) -> tuple[int | None, str]:
    """Return Pinterest's `{code, message}` from an error response, scrubbed; tolerate any body."""
    try:
        body = json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None, scrub(response.content[:_MAX_MESSAGE_CHARS].decode("utf-8", "replace"))
    if not isinstance(body, dict):
        return None, ""
    code = body.get("code")
    message = body.get("message")
    return (
        code if isinstance(code, int) and not isinstance(code, bool) else None,
        scrub(message) if isinstance(message, str) else "",
    )


def error_for_response(
    response: httpx.Response,
    operation: str,
    now: datetime,
    *,
    daily_quota_threshold_s: float = DAILY_QUOTA_THRESHOLD_S,
    after_refresh: bool = False,
) -> PinterestApiError:
    """Return the error that a non-2xx `response` to `operation` means."""
    status = response.status_code
    code, message = read_error_body(response)
    said = (
        f" (code {code}: {message})" if code is not None else (f" ({message})" if message else "")
    )
    if status == 429:
        wait = parse_retry_after(response.headers, message, now)
        daily = is_daily_quota(wait, daily_quota_threshold_s)
        if wait is None:
            when = "no reset time given"
        elif daily:
            when = f"Pinterest daily quota exhausted; resets in {describe_wait(wait)}"
        else:
            when = f"retry in {describe_wait(wait)}"
        return PinterestRateLimitedError(
            f"{operation}: rate limited by Pinterest, {when}{said}",
            retry_after_s=wait,
            is_daily_quota=daily,
            http_status=status,
            code=code,
            message=message,
        )
    if status == 408 or status >= 500:
        wait = parse_retry_after(response.headers, None, now)
        return PinterestUnavailableError(
            f"{operation}: Pinterest answered HTTP {status}{said}",
            retry_after_s=wait,
            http_status=status,
            code=code,
            message=message,
        )
    if status in (401, 403):
        why = (
            "Pinterest refused the access token even after refreshing it"
            if after_refresh and status == 401
            else f"Pinterest refused the credentials (HTTP {status})"
        )
        return PinterestAuthError(
            f"{operation}: {why}{said}", http_status=status, code=code, message=message
        )
    if status == 404:
        return PinterestNotFoundError(
            f"{operation}: not found{said}", http_status=status, code=code, message=message
        )
    return PinterestBadRequestError(
        f"{operation}: Pinterest refused the request (HTTP {status}){said}",
        http_status=status,
        code=code,
        message=message,
    )


def error_for_transport(exc: httpx.TransportError, operation: str) -> PinterestUnavailableError:
    """Return the retryable error for a timeout or a connection that failed."""
    kind = "did not answer in time" if isinstance(exc, httpx.TimeoutException) else "unreachable"
    return PinterestUnavailableError(f"{operation}: Pinterest {kind} ({type(exc).__name__})")
