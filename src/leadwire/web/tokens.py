"""The JSON API's bearer token: where it comes from, and checking one presented.

`/api/*` answers only to `Authorization: Bearer <token>`, on loopback too: a web page the
operator has open can POST to 127.0.0.1 (no CORS preflight for a form) or read it through DNS
rebinding, and a header it cannot set stops both. The token is the settings' `api_token`
(`LEADWIRE_API_TOKEN`, what scale-out processes share), or else the one whose SHA-256 is in
`data_dir/api-token.sha256` — made by `issue_api_token`, shown once, never stored in clear.
Both are accepted when both are set. A process reads them when it starts.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

from leadwire.settings import Settings

TOKEN_FILE = "api-token.sha256"  # noqa: S105 - a file name
TOKEN_PREFIX = "lwapi_"  # noqa: S105 - a prefix, for secret scanners


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_file(settings: Settings) -> Path:
    """Return the file holding the hash of the data folder's API token."""
    return settings.data_dir / TOKEN_FILE


class ApiTokens:
    """The tokens the API accepts, by hash; checks take the same time whichever matches."""

    def __init__(self, hashes: frozenset[str]) -> None:
        self._hashes = hashes

    @classmethod
    def from_settings(cls, settings: Settings) -> ApiTokens:
        """Return the tokens `settings` configure: `api_token`, and the data folder's."""
        hashes: set[str] = set()
        if settings.api_token is not None and settings.api_token.get_secret_value():
            hashes.add(_hash(settings.api_token.get_secret_value()))
        path = token_file(settings)
        if path.exists():
            stored = path.read_text(encoding="ascii").strip()
            if stored:
                hashes.add(stored)
        return cls(frozenset(hashes))

    @classmethod
    def of(cls, *tokens: str) -> ApiTokens:
        """Return an instance accepting exactly `tokens` (for tests and embedding)."""
        return cls(frozenset(_hash(t) for t in tokens))

    @property
    def is_configured(self) -> bool:
        """Say whether any token is accepted at all."""
        return bool(self._hashes)

    def accepts(self, presented: str) -> bool:
        """Say whether `presented` is one of the tokens."""
        digest = _hash(presented)
        found = False
        for known in self._hashes:
            found |= hmac.compare_digest(digest, known)
        return found


def issue_api_token(settings: Settings) -> str:
    """Make a new data-folder token, replacing the old one; return it (shown this once)."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    path = token_file(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as handle:
        handle.write(_hash(token) + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    return token


def ensure_api_token(settings: Settings) -> str | None:
    """Issue a data-folder token if no token is configured; return it, or None if one was."""
    if ApiTokens.from_settings(settings).is_configured:
        return None
    return issue_api_token(settings)
