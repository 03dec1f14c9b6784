"""What a running CRM shares between requests: settings, store, auth cache, limiter, events."""

from __future__ import annotations

from dataclasses import dataclass

from leadwire.crm.auth.principal import PrincipalResolver
from leadwire.crm.ratelimit import RateLimiter
from leadwire.crm.store import CrmStore
from leadwire.settings import Settings


@dataclass(frozen=True)
class CrmRuntime:
    """Built once by `create_app` and kept on `app.state.crm`."""

    settings: Settings
    store: CrmStore
    resolver: PrincipalResolver
    limiter: RateLimiter
