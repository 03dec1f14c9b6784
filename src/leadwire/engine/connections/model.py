"""What a connection is: its kind, clear settings, secrets (never shown), scopes and health."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal, NewType

from pydantic import BaseModel, ConfigDict, Field

from leadwire.connectors.pinterest.oauth import LEAD_ADS_SCOPES, PinterestEndpoints
from leadwire.errors import DecodeError

ConnectionId = NewType("ConnectionId", str)

CONTACTS_API_VERSION = "2021-07-28"
CONTACTS_SCOPES = frozenset({"contacts.readonly", "contacts.write"})
PINTEREST_SCOPES = frozenset(LEAD_ADS_SCOPES)


class ConnectionKind(StrEnum):
    """Which outside API a connection reaches."""

    PINTEREST = "pinterest"
    CONTACTS = "contacts"


class ConnectionStatus(StrEnum):
    """Health as last observed: never tried, worked, or failing (with why and since when)."""

    UNTESTED = "untested"
    OK = "ok"
    FAILING = "failing"


class ContactsAuth(StrEnum):
    """How a contacts connection authenticates."""

    API_KEY = "api_key"  # a location API key or private integration token (`pit-...`)
    OAUTH = "oauth"


# What leadwire's flows can use at most, per kind: anything beyond is an excess grant.
MOST_NEEDED_SCOPES: dict[ConnectionKind, frozenset[str]] = {
    ConnectionKind.PINTEREST: PINTEREST_SCOPES,
    ConnectionKind.CONTACTS: CONTACTS_SCOPES,
}


class PinterestConfig(BaseModel):
    """Clear settings of a Pinterest connection."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal[ConnectionKind.PINTEREST] = ConnectionKind.PINTEREST
    api_base_url: str = Field(min_length=1, description="e.g. http://127.0.0.1:8420/v5")
    authorize_page_url: str | None = None
    ad_account_id: str = Field(min_length=1)
    client_id: str | None = Field(default=None, description="The app's id; refresh needs it.")

    def endpoints(self) -> PinterestEndpoints:
        """Return where this connection's Pinterest lives."""
        page = self.authorize_page_url or PinterestEndpoints().authorize_page_url
        return PinterestEndpoints(api_base_url=self.api_base_url, authorize_page_url=page)


class ContactsConfig(BaseModel):
    """Clear settings of a contacts (CRM) connection."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal[ConnectionKind.CONTACTS] = ConnectionKind.CONTACTS
    base_url: str = Field(min_length=1, description="e.g. https://services.leadconnectorhq.com")
    location_id: str = Field(min_length=1)
    auth: ContactsAuth = ContactsAuth.API_KEY
    client_id: str | None = Field(default=None, description="OAuth only: the app's id.")
    api_version: str = CONTACTS_API_VERSION
    idempotency_keys: bool = Field(
        default=False,
        description=(
            "The CRM honours `Idempotency-Key` (the embedded CRM does). Otherwise tasks and "
            "notes are looked up by their marker before being created again."
        ),
    )
    bulk_tags: bool = Field(
        default=True,
        description=(
            "Add the same tags to the contacts of leads whose runs reach the step together in "
            "one request (`POST /contacts/bulk/tags/update/add`). A CRM that refuses it (no "
            "such endpoint, another scope) gets one request per contact until the worker "
            "restarts."
        ),
    )

    @property
    def token_url(self) -> str:
        """Return the OAuth token endpoint of this CRM."""
        return f"{self.base_url.rstrip('/')}/oauth/token"


ConnectionConfig = PinterestConfig | ContactsConfig


@dataclass(frozen=True, slots=True)
class ConnectionSecrets:
    """The secrets of one connection, sealed together; none of them shows in a repr."""

    api_key: str | None = field(default=None, repr=False)
    client_secret: str | None = field(default=None, repr=False)
    access_token: str | None = field(default=None, repr=False)
    refresh_token: str | None = field(default=None, repr=False)

    def to_bytes(self) -> bytes:
        """Return these secrets as the plaintext to seal."""
        return json.dumps({k: v for k, v in asdict(self).items() if v is not None}).encode()

    @classmethod
    def from_bytes(cls, raw: bytes) -> ConnectionSecrets:
        """Return the secrets an opened envelope holds."""
        try:
            values = json.loads(raw)
            return cls(**{k: str(v) for k, v in values.items()})
        except (ValueError, TypeError, AttributeError):
            raise DecodeError("connection secrets: not the expected JSON object") from None


@dataclass(frozen=True, slots=True)
class Connection:
    """A connection as shown: everything but the secrets (the key id that seals them)."""

    id: ConnectionId
    name: str
    kind: ConnectionKind
    config: ConnectionConfig
    scopes: frozenset[str]
    status: ConnectionStatus
    failing_since: datetime | None
    last_error: str | None
    last_ok_at: datetime | None
    access_expires_at: datetime | None
    refresh_expires_at: datetime | None
    key_id: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Credentials:
    """A connection with its opened secrets (the secrets never show in a repr)."""

    connection: Connection
    secrets: ConnectionSecrets
