"""Administration of the CRM: locations, API keys, demo data. Used by the CLI and tests."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from leadwire.crm.auth.principal import ALL_SCOPES, hash_token, mint_api_key
from leadwire.crm.ids import new_id
from leadwire.crm.models import ApiKey, Location, User, utcnow

DEMO_LOCATION_NAME = "leadwire demo"
UP_KEY_NAME = "leadwire up"


@dataclass(frozen=True)
class IssuedKey:
    """An API key as shown once: its id, location and the secret itself."""

    id: str
    location_id: str
    token: str
    scopes: tuple[str, ...]


def create_location(
    session: Session,
    name: str,
    *,
    company_id: str | None = None,
    allow_duplicates: bool = False,
    timezone: str = "UTC",
) -> Location:
    """Create a location with one owner user; the caller commits."""
    location = Location(
        id=new_id(),
        company_id=company_id or new_id(),
        name=name,
        allow_duplicates=allow_duplicates,
        timezone=timezone,
    )
    session.add(location)
    session.flush()
    session.add(User(id=new_id(), location_id=location.id, name=f"{name} owner", email=None))
    return location


def create_api_key(
    session: Session,
    location_id: str,
    name: str,
    scopes: tuple[str, ...] = ALL_SCOPES,
) -> IssuedKey:
    """Mint an API key (private integration token); only its hash is stored. Caller commits."""
    unknown = sorted(set(scopes) - set(ALL_SCOPES))
    if unknown:
        raise ValueError(f"unknown scope(s) {', '.join(unknown)}; known: {', '.join(ALL_SCOPES)}")
    if session.get(Location, location_id) is None:
        raise ValueError(f"no location with id {location_id}")
    token = mint_api_key()
    key = ApiKey(
        id=new_id(),
        location_id=location_id,
        name=name,
        token_hash=hash_token(token),
        prefix=token[:12],
        scopes=" ".join(scopes),
    )
    session.add(key)
    return IssuedKey(id=key.id, location_id=location_id, token=token, scopes=scopes)


def revoke_api_key(session: Session, key_id: str) -> bool:
    """Revoke a key by id; return whether one was revoked. Caller commits."""
    result = session.execute(
        update(ApiKey)
        .where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return bool(getattr(result, "rowcount", 0))


def demo_location(session: Session) -> tuple[Location, bool]:
    """Return the demo location and whether it was just created. Caller commits."""
    found = session.scalar(select(Location).where(Location.name == DEMO_LOCATION_NAME))
    if found is not None:
        return found, False
    return create_location(session, DEMO_LOCATION_NAME), True


def rotate_up_key(session: Session, location_id: str) -> IssuedKey:
    """Revoke the previous `leadwire up` key of the location and mint a new one. Caller commits."""
    session.execute(
        update(ApiKey)
        .where(
            ApiKey.location_id == location_id,
            ApiKey.name == UP_KEY_NAME,
            ApiKey.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
    return create_api_key(session, location_id, UP_KEY_NAME)
