"""The one exception root, split into what may succeed if retried and what never will.

The engine decides retries from the type alone: a `RetryableError` is rescheduled (after
`retry_after_s` when the other side said so), a `FatalError` goes to the needs-attention inbox.
"""

from __future__ import annotations


class LeadwireError(Exception):
    """Root of every error leadwire raises on purpose."""


class RetryableError(LeadwireError):
    """The same call may succeed later."""

    def __init__(self, message: str, *, retry_after_s: float | None = None) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s


class RateLimitedError(RetryableError):
    """The other side refused for rate; `retry_after_s` says when it allows again, if known."""


class UpstreamUnavailableError(RetryableError):
    """The other side failed (5xx), timed out or could not be reached."""


class FatalError(LeadwireError):
    """Retrying the same call cannot help; a person must look."""


class AuthError(FatalError):
    """Credentials are missing, wrong, expired beyond refresh, or lack a scope."""


class BadRequestError(FatalError):
    """The other side refused the request as malformed or invalid."""


class NotFoundError(FatalError):
    """The thing asked for does not exist."""


class DecodeError(FatalError):
    """A payload could not be decrypted or parsed."""
