"""`connections test`: call a connection's API once and record what happened."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx

from leadwire.engine.connections.contacts import probe_contacts
from leadwire.engine.connections.health import record_failure, record_ok
from leadwire.engine.connections.model import Connection, ConnectionKind
from leadwire.engine.connections.pinterest import probe_pinterest
from leadwire.engine.connections.records import load_connection
from leadwire.engine.secrets import KeyRing
from leadwire.errors import LeadwireError
from leadwire.store.app import AppStore
from leadwire.store.types import utcnow

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProbeResult:
    """The connection as recorded after the call, whether it worked, and what answered."""

    connection: Connection
    is_ok: bool
    detail: str


def check_connection(
    store: AppStore,
    ring: KeyRing,
    ref: str,
    *,
    transport: httpx.BaseTransport | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> ProbeResult:
    """Call connection `ref`'s API once (Pinterest: its ad account; contacts: one contact).

    Records ok, or failing with the reason (since the first failure of a run).
    """
    connection = load_connection(store, ref)
    probe = probe_pinterest if connection.kind is ConnectionKind.PINTEREST else probe_contacts
    try:
        detail = probe(store, ring, connection.id, transport=transport, clock=clock)
    except LeadwireError as exc:
        reason = f"{type(exc).__name__}: {exc}"
        failed = record_failure(store, connection.id, reason, now=clock())
        return ProbeResult(failed, False, failed.last_error or reason)
    logger.info("connections.tested connection_id=%s ok=true", connection.id)
    return ProbeResult(record_ok(store, connection.id, now=clock()), True, detail)
