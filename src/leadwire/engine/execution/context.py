"""A lead's Pinterest context — the names of its ad account, campaign, ad group, ad and form.

Fetched through the lead's Pinterest connection and cached for a bounded time (names change
rarely; every lead of one ad would otherwise spend five read calls of the quota). A look-up
that fails degrades to "unknown" and says why: a missing campaign name is no reason to hold a
lead back from the CRM.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from leadwire.connectors.pinterest.client import PinterestClient
from leadwire.connectors.pinterest.leads import Lead
from leadwire.engine.connections.health import record_failure
from leadwire.engine.connections.pinterest import open_pinterest_client
from leadwire.engine.execution.cache import TtlCache
from leadwire.engine.planning import PinterestContext
from leadwire.engine.secrets import KeyRing
from leadwire.errors import AuthError, LeadwireError, NotFoundError
from leadwire.store.app import AppStore

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 600.0
DEFAULT_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Looked:
    """A lead's context, and why part of it is unknown (None: all found)."""

    context: PinterestContext
    problem: str | None = None


class ContextLookup:
    """Looks up and caches the names of what leads came through."""

    def __init__(
        self,
        store: AppStore,
        ring: KeyRing,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        size: int = DEFAULT_SIZE,
        open_client: Callable[[str], PinterestClient] | None = None,
    ) -> None:
        self._store = store
        self._names: TtlCache[tuple[str, str, str], str | None] = TtlCache(size, ttl_s)
        self._open = open_client or (lambda ref: open_pinterest_client(store, ring, ref))
        self._clients: dict[str, PinterestClient] = {}
        self._lock = threading.Lock()

    def close(self) -> None:
        """Close the Pinterest clients."""
        with self._lock:
            for client in self._clients.values():
                client.close()
            self._clients.clear()

    def _failing(self, connection_id: str, reason: str) -> None:
        try:
            record_failure(self._store, connection_id, reason)
        except Exception:
            # Health is a report: the lead goes on without its names either way.
            log.exception("connections.health_write_failed connection_id=%s", connection_id)

    def _client(self, connection_id: str) -> PinterestClient:
        with self._lock:
            client = self._clients.get(connection_id)
            if client is None:
                client = self._open(connection_id)
                self._clients[connection_id] = client
            return client

    def lookup(self, connection_id: str | None, lead: Lead) -> Looked:
        """Return the names of `lead`'s context, as far as they can be found now."""
        if connection_id is None:
            return Looked(PinterestContext(), "no Pinterest connection to look up names with")
        account = lead.ad_account_id
        wanted: list[tuple[str, str | None, Callable[[PinterestClient, str], str | None]]] = [
            ("ad_account", account, lambda c, i: c.ads.fetch_ad_account(i).name),
            ("campaign", lead.campaign_id, lambda c, i: c.ads.fetch_campaign(account, i).name),
            ("ad_group", lead.ad_group_id, lambda c, i: c.ads.fetch_ad_group(account, i).name),
            ("ad", lead.ad_id, lambda c, i: c.ads.fetch_ad(account, i).name),
            ("form", lead.lead_form_id, lambda c, i: c.lead_forms.fetch(account, i).name),
        ]
        names: dict[str, str | None] = {}
        problems: list[str] = []
        for kind, item_id, fetch in wanted:
            if item_id is None:
                names[kind] = None
                continue
            key = (connection_id, kind, item_id)
            cached = self._names.get(key)
            if cached is not None:
                names[kind] = cached
                continue
            try:
                name = fetch(self._client(connection_id), item_id)
            except NotFoundError:
                name = None  # deleted since the lead came: its name is unknown
            except LeadwireError as exc:
                problems.append(f"{kind}: {type(exc).__name__}: {exc}")
                names[kind] = None
                if isinstance(exc, AuthError):
                    self._failing(connection_id, str(exc))
                    break  # the other look-ups would be refused the same way
                continue
            names[kind] = name
            if name is not None:
                self._names.put(key, name)
        for kind, _item_id, _fetch in wanted:
            names.setdefault(kind, None)
        problem = "; ".join(problems) or None
        if problem:
            log.warning("context.lookup_degraded lead=%s problem=%s", lead.lead_id, problem)
        return Looked(PinterestContext(**names), problem)
