"""What a running sandbox shares between requests: settings, store, limiter, master key."""

from __future__ import annotations

from dataclasses import dataclass, field

from leadwire.sandbox.ratelimit import RateLimiter
from leadwire.sandbox.store import SandboxStore
from leadwire.settings import Settings


@dataclass(frozen=True)
class SandboxRuntime:
    """Built once by `create_app` and kept on `app.state.sandbox`."""

    settings: Settings
    store: SandboxStore
    limiter: RateLimiter
    master_key: bytes = field(repr=False)
    public_url: str | None

    def base_url(self, request_base: str) -> str:
        """Return the URL links point at: the configured public URL, else the request's."""
        return (self.public_url or request_base).rstrip("/")
