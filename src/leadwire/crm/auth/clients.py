"""OAuth clients (marketplace apps): register one, list them. Used by the CLI and tests.

A client belongs to a company (agency) and may be installed on any of its locations. Its secret
is shown once, when it is created; only its SHA-256 is kept, like every other credential.
"""

from __future__ import annotations

import secrets
import string
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from leadwire.crm.auth.principal import ALL_SCOPES, hash_token
from leadwire.crm.models import Location, OAuthClient

_SUFFIX_ALPHABET = string.ascii_lowercase + string.digits


@dataclass(frozen=True)
class IssuedClient:
    """A client as shown once: its id and the secret itself."""

    id: str
    secret: str
    company_id: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]


@dataclass(frozen=True)
class ClientSummary:
    """A client as listed: everything but the secret, which is not kept."""

    id: str
    name: str
    company_id: str
    scopes: tuple[str, ...]
    redirect_uris: tuple[str, ...]
    date_added: datetime


def mint_client_id() -> str:
    """Return a client id shaped like HighLevel's: 24 hex digits, `-`, 8 letters and digits."""
    suffix = "".join(secrets.choice(_SUFFIX_ALPHABET) for _ in range(8))
    return f"{secrets.token_hex(12)}-{suffix}"


def mint_client_secret() -> str:
    """Return a client secret shaped like HighLevel's (a UUID: 122 random bits)."""
    return str(uuid.uuid4())


def normalize_scopes(scopes: Sequence[str]) -> tuple[str, ...]:
    """Return the scopes in canonical order without repeats; ValueError naming unknown ones."""
    wanted = {s for scope in scopes for s in scope.split()}
    unknown = sorted(wanted - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}")
    if not wanted:
        raise ValueError(f"give at least one scope; known: {', '.join(ALL_SCOPES)}")
    return tuple(s for s in ALL_SCOPES if s in wanted)


def check_redirect_uri(uri: str) -> str:
    """Return `uri` if it may be registered (RFC 6749 §3.1.2: absolute, no fragment)."""
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"redirect URI {uri!r} must be an absolute http:// or https:// URL")
    if parts.fragment or uri.endswith("#"):
        raise ValueError(f"redirect URI {uri!r} must not have a fragment (#...)")
    return uri


def create_oauth_client(
    session: Session,
    name: str,
    redirect_uris: Sequence[str],
    scopes: Sequence[str],
    company_id: str,
) -> IssuedClient:
    """Register an OAuth client of `company_id`; the secret is returned once. Caller commits."""
    if not name.strip():
        raise ValueError("give the client a name")
    if not redirect_uris:
        raise ValueError("give at least one redirect URI")
    uris = tuple(dict.fromkeys(check_redirect_uri(uri) for uri in redirect_uris))
    allowed = normalize_scopes(scopes)
    # A company exists only through its locations: refusing an unknown one catches typos.
    known = session.scalar(select(Location.id).where(Location.company_id == company_id).limit(1))
    if known is None:
        raise ValueError(f"no location belongs to company {company_id}")
    secret = mint_client_secret()
    client = OAuthClient(
        id=mint_client_id(),
        company_id=company_id,
        name=name.strip(),
        secret_hash=hash_token(secret),
        redirect_uris=list(uris),
        scopes=" ".join(allowed),
    )
    session.add(client)
    session.flush()
    return IssuedClient(client.id, secret, company_id, allowed, uris)


def company_of_location(session: Session, location_id: str) -> str:
    """Return the company a location belongs to; ValueError if there is no such location."""
    location = session.get(Location, location_id)
    if location is None:
        raise ValueError(f"no location with id {location_id}")
    return location.company_id


def list_oauth_clients(session: Session, company_id: str | None = None) -> list[ClientSummary]:
    """Return the registered clients (of one company if given), oldest first."""
    query = select(OAuthClient).order_by(OAuthClient.date_added, OAuthClient.id)
    if company_id is not None:
        query = query.where(OAuthClient.company_id == company_id)
    return [
        ClientSummary(
            id=c.id,
            name=c.name,
            company_id=c.company_id,
            scopes=tuple(c.scopes.split()),
            redirect_uris=tuple(c.redirect_uris),
            date_added=c.date_added,
        )
        for c in session.scalars(query)
    ]
