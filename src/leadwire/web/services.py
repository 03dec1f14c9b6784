"""What the web app runs on, opened once per process: `leadwire up` and `leadwire serve` alike.

`WebServices.open(settings)` opens the app store, the key ring, durable intake (group commit
on top), the live flows' routes, the inbox and the API tokens; `close()` releases what it
opened. `leadwire up` runs a worker in the same process; `leadwire serve` runs none — the app
is the same, since intake needs only the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from leadwire.engine.runtime import GroupIntake, Inbox, LeadIntake, RuntimeOptions
from leadwire.engine.secrets import KeyRing, open_keyring
from leadwire.engine.sources import FlowRoutes
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store
from leadwire.web.hook_cache import DEFAULT_TTL_S, HookDirectory
from leadwire.web.tokens import ApiTokens


@dataclass
class WebServices:
    """The receiver's and the API's dependencies; build with `open`."""

    settings: Settings
    store: AppStore
    ring: KeyRing
    intake: LeadIntake
    group: GroupIntake
    routes: FlowRoutes
    hooks: HookDirectory
    tokens: ApiTokens
    _owns_store: bool = field(default=True, repr=False)
    _owns_intake: bool = field(default=True, repr=False)

    @classmethod
    def open(
        cls,
        settings: Settings,
        *,
        store: AppStore | None = None,
        intake: LeadIntake | None = None,
        tokens: ApiTokens | None = None,
        hook_ttl_s: float = DEFAULT_TTL_S,
        routes_ttl_s: float | None = None,
    ) -> WebServices:
        """Open everything the settings name; `store` and `intake` may be shared (not closed)."""
        owns_store, owns_intake = store is None, intake is None
        store = store or open_app_store(settings)
        ring = open_keyring(settings)
        intake = intake or LeadIntake.open(RuntimeOptions.from_settings(settings))
        routes = (
            FlowRoutes(store.read_sessions)
            if routes_ttl_s is None
            else FlowRoutes(store.read_sessions, ttl_s=routes_ttl_s)
        )
        return cls(
            settings=settings,
            store=store,
            ring=ring,
            intake=intake,
            group=GroupIntake(intake),
            routes=routes,
            hooks=HookDirectory(store.read_sessions, store.sessions, ring, ttl_s=hook_ttl_s),
            tokens=tokens or ApiTokens.from_settings(settings),
            _owns_store=owns_store,
            _owns_intake=owns_intake,
        )

    @property
    def inbox(self) -> Inbox:
        """The needs-attention inbox, acting with intake's durable engine."""
        return self.intake.inbox()

    def close(self) -> None:
        """Commit what intake holds, then release what `open` opened."""
        self.group.close()
        if self._owns_intake:
            self.intake.close()
        if self._owns_store:
            self.store.engine.dispose()
