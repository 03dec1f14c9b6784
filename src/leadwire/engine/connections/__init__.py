"""Connections to Pinterest and to a CRM's Contacts API: secrets sealed, tokens kept fresh.

Kinds, settings and views in model.py; adding, finding, sealing in records.py; health (ok, or
failing since when and why) and excess scopes in health.py; token refresh serialised across
processes in tokens.py; each kind's client, refresher and probe in pinterest.py / contacts.py;
`check_connection` (probes.py) calls an API once and records the outcome.
"""

from leadwire.engine.connections.health import (
    excess_scopes,
    record_failure,
    record_ok,
    scope_warning,
)
from leadwire.engine.connections.model import (
    Connection,
    ConnectionId,
    ConnectionKind,
    ConnectionSecrets,
    ConnectionStatus,
    ContactsAuth,
    ContactsConfig,
    Credentials,
    PinterestConfig,
)
from leadwire.engine.connections.pinterest import (
    open_pinterest_client,
    pinterest_refresher,
    pinterest_token_saver,
)
from leadwire.engine.connections.probes import ProbeResult, check_connection
from leadwire.engine.connections.records import (
    add_connection,
    list_connections,
    load_connection,
    load_credentials,
    remove_connection,
)
from leadwire.engine.connections.tokens import TokenPair, Tokens, refresh_tokens, token_saver

__all__ = [
    "Connection",
    "ConnectionId",
    "ConnectionKind",
    "ConnectionSecrets",
    "ConnectionStatus",
    "ContactsAuth",
    "ContactsConfig",
    "Credentials",
    "PinterestConfig",
    "ProbeResult",
    "TokenPair",
    "Tokens",
    "add_connection",
    "check_connection",
    "excess_scopes",
    "list_connections",
    "load_connection",
    "load_credentials",
    "open_pinterest_client",
    "pinterest_refresher",
    "pinterest_token_saver",
    "record_failure",
    "record_ok",
    "refresh_tokens",
    "remove_connection",
    "scope_warning",
    "token_saver",
]
