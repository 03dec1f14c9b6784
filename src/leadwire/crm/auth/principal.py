"""Resolve a bearer token to the principal behind it, with a short-lived cache."""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from leadwire.crm.models import ApiKey, OAuthToken, utcnow

READ = "contacts.readonly"
WRITE = "contacts.write"
ALL_SCOPES = (READ, WRITE)


class PrincipalKind(StrEnum):
    """What kind of credential a principal presented."""

    API_KEY = "api_key"
    OAUTH = "oauth"


@dataclass(frozen=True, slots=True)
class Principal:
    """A caller: the credential, its location, its scopes and its rate-limit bucket."""

    kind: PrincipalKind
    credential_id: str
    location_id: str
    scopes: frozenset[str]
    # Rate limits are per app (OAuth client) or per key, and per location.
    bucket: str

    def has_scope(self, scope: str) -> bool:
        """Tell whether the token was granted `scope` (write implies nothing about read)."""
        return scope in self.scopes


def hash_token(token: str) -> bytes:
    """Return the SHA-256 of a token: tokens are random 128+ bits, so no slow hash is needed."""
    return hashlib.sha256(token.encode("utf-8")).digest()


def mint_api_key() -> str:
    """Return a new private integration token, `pit-` and a UUID as HighLevel spells them."""
    return f"pit-{uuid.uuid4()}"


def mint_secret(prefix: str, nbytes: int = 32) -> str:
    """Return a new random secret with a readable prefix."""
    return f"{prefix}{secrets.token_urlsafe(nbytes)}"


class PrincipalResolver:
    """Looks tokens up by hash; remembers answers for `ttl_s` so hot paths skip the database.

    A revocation in this process takes effect at once (`forget_all`); one made by another
    process takes effect within `ttl_s`.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl_s = ttl_s
        self._clock = clock
        self._cache: dict[bytes, tuple[float, Principal | str]] = {}
        self._lock = threading.Lock()

    def cached(self, token: str) -> Principal | str | None:
        """Return the remembered answer for `token`, or None: then `resolve` must ask the store.

        No I/O, so the event loop may call it; a miss goes to `resolve` in a thread.
        """
        digest = hash_token(token)
        with self._lock:
            hit = self._cache.get(digest)
        if hit is not None and hit[0] > self._clock():
            return hit[1]
        return None

    def resolve(self, token: str) -> Principal | str:
        """Return the principal for `token`, or why it is refused (unknown, expired, revoked)."""
        hit = self.cached(token)
        if hit is not None:
            return hit
        digest = hash_token(token)
        now = self._clock()
        principal, lifetime_s = self._load(digest)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            # Never remember a token past its own expiry, or it would outlive it by up to ttl_s.
            self._cache[digest] = (now + min(self._ttl_s, lifetime_s), principal)
        return principal

    def forget_all(self) -> None:
        """Drop every cached answer (after a revocation or rotation)."""
        with self._lock:
            self._cache.clear()

    def _load(self, digest: bytes) -> tuple[Principal | str, float]:
        """Return the answer for a token and how many seconds it stays true (at most)."""
        unbounded = float("inf")  # no limit of its own: the cache ttl applies
        with self._sessions() as session:
            key = session.scalar(select(ApiKey).where(ApiKey.token_hash == digest))
            if key is not None:
                if key.revoked_at is not None:
                    return "Invalid token: this API key was revoked", unbounded
                return Principal(
                    kind=PrincipalKind.API_KEY,
                    credential_id=key.id,
                    location_id=key.location_id,
                    scopes=frozenset(key.scopes.split()),
                    bucket=f"key:{key.id}",
                ), unbounded
            token = session.scalar(select(OAuthToken).where(OAuthToken.access_hash == digest))
            if token is None:
                return "Invalid token: access token is invalid", unbounded
            if token.revoked_at is not None:
                return "Invalid token: access token was revoked", unbounded
            lifetime_s = (token.access_expires_at - utcnow()).total_seconds()
            if lifetime_s <= 0:
                expired = "Invalid JWT: access token has expired; refresh it at /oauth/token"
                return expired, unbounded
            return Principal(
                kind=PrincipalKind.OAUTH,
                credential_id=token.id,
                location_id=token.location_id,
                scopes=frozenset(token.scope.split()),
                bucket=f"app:{token.client_id}",
            ), lifetime_s
