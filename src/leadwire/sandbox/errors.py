"""Pinterest's error body `{"code": int, "message": str}` and the exception that carries it.

The body `code` is sometimes an internal code (1, 2, 3, 8, 29, 283, 4842) and sometimes a copy
of the HTTP status (400, 404), exactly as the spec's examples show per operation
(`shared/reference/pinterest-lead-ads.md` §6).
"""

from __future__ import annotations

from typing import Any


class PinterestError(Exception):
    """An answer other than success: raise it anywhere in a request to send its body."""

    def __init__(
        self, status: int, code: int, message: str, *, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """Return the JSON body."""
        return {"code": self.code, "message": self.message}


AUTH_FAILED = "Authentication failed."
NO_SCOPE = (
    "Your token does not have sufficient permissions to perform this operation. Please ensure "
    "your token is authorized with the correct set of scopes."
)
NOT_PERMITTED = "You are not permitted to access that resource."
RATE_LIMITED = (
    "This request exceeded a rate limit. This can happen if the client exceeds one of the "
    "published rate limits within a short time window."
)
BAD_GRANT = "The authorization grant is invalid"


def auth_failed() -> PinterestError:
    """Return the 401 for a missing, unknown, expired or revoked token."""
    return PinterestError(401, 2, AUTH_FAILED)


def missing_scope(needed: str) -> PinterestError:
    """Return the 401 for a token that lacks the operation's scope."""
    return PinterestError(401, 3, f"{NO_SCOPE} This operation needs {needed}.")


def forbidden() -> PinterestError:
    """Return the 403 for an ad account (or other resource) the token's user may not use."""
    return PinterestError(403, 29, NOT_PERMITTED)


def bad_grant() -> PinterestError:
    """Return the token endpoint's answer to a bad code, refresh token or verifier.

    The message is Pinterest's, verbatim (clients match on it); the reason is logged instead.
    """
    return PinterestError(400, 283, BAD_GRANT)


def rate_limited(reset_s: int) -> PinterestError:
    """Return the 429, with `X-RateLimit-Reset` (seconds until the window resets)."""
    return PinterestError(429, 8, RATE_LIMITED, headers={"X-RateLimit-Reset": str(reset_s)})


def invalid(code: int, message: str) -> PinterestError:
    """Return a 400 with the operation's code (1 or 400, as its spec example shows)."""
    return PinterestError(400, code, message)
