"""The hooks the receiver knows, by URL secret: looked up once, then kept for a few seconds.

Every delivery names its hook by the secret in its URL. Reading the row and opening its sealed
delivery key for each one would cost a query and a decryption per lead, so a found hook is kept
for `ttl_s` (a removed hook stops answering within that time). Unknown secrets are not
remembered: a hook just created works at once. The cache is keyed by the secret's hash, so no
URL secret sits in memory longer than its request.

`last_delivery_at` is written at most once per `touch_interval_s` per hook, after the answer
has gone out: a per-lead write would double intake's work for a date shown to the minute.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from leadwire.engine.secrets import KeyRing, SecretDecodeError
from leadwire.engine.sources import delivery_key_of, find_hook
from leadwire.store.models.hooks import PinterestHookRow
from leadwire.store.types import utcnow

log = logging.getLogger(__name__)

DEFAULT_TTL_S = 5.0
DEFAULT_TOUCH_INTERVAL_S = 60.0


class KeyUnavailableError(RuntimeError):
    """A hook's sealed delivery key cannot be opened: the key ring that sealed it is gone."""

    def __init__(self, hook_id: str, reason: str) -> None:
        super().__init__(f"hook {hook_id}: {reason}")
        self.hook_id = hook_id


@dataclass(frozen=True, slots=True)
class OpenHook:
    """A hook with its delivery key opened: what decoding a delivery needs."""

    id: str
    name: str
    pinterest_connection_id: str | None
    delivery_key: str = field(repr=False)


class DeliveryStamps:
    """Writes a hook table's `last_delivery_at`, at most once per `interval_s` per hook.

    Best effort: the stamp is a report, so a failed write is only logged.
    """

    def __init__(
        self,
        write_sessions: Callable[[], Session],
        model: Any,
        *,
        interval_s: float = DEFAULT_TOUCH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._write = write_sessions
        self._model = model
        self._interval_s = interval_s
        self._clock = clock
        self._lock = threading.Lock()
        self._touched: dict[str, float] = {}

    def is_due(self, hook_id: str) -> bool:
        """Say whether the hook's `last_delivery_at` is due a write; claim it if so."""
        now = self._clock()
        with self._lock:
            last = self._touched.get(hook_id)
            if last is not None and now - last < self._interval_s:
                return False
            self._touched[hook_id] = now
            return True

    def touch(self, hook_id: str) -> None:
        """Set the hook's `last_delivery_at` to now."""
        model = self._model
        try:
            with self._write() as session:
                session.execute(
                    update(model).where(model.id == hook_id).values(last_delivery_at=utcnow())
                )
                session.commit()
        except Exception:
            log.warning("hooks.touch_failed hook=%s", hook_id, exc_info=True)


class HookDirectory:
    """Finds hooks by URL secret (cached) and records when they were last reached; thread-safe."""

    def __init__(
        self,
        read_sessions: Callable[[], Session],
        write_sessions: Callable[[], Session],
        ring: KeyRing,
        *,
        ttl_s: float = DEFAULT_TTL_S,
        touch_interval_s: float = DEFAULT_TOUCH_INTERVAL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._read = read_sessions
        self._write = write_sessions
        self._ring = ring
        self._ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._found: dict[str, tuple[float, OpenHook]] = {}
        self._stamps = DeliveryStamps(
            write_sessions, PinterestHookRow, interval_s=touch_interval_s, clock=clock
        )

    def cached(self, secret: str) -> OpenHook | None:
        """Return the hook of `secret` if it is cached and fresh, else None (never reads)."""
        digest = hashlib.sha256(secret.encode()).hexdigest()
        with self._lock:
            found = self._found.get(digest)
        if found is None or self._clock() - found[0] >= self._ttl_s:
            return None
        return found[1]

    def find(self, secret: str) -> OpenHook | None:
        """Return the hook of `secret`, or None; `KeyUnavailableError` if its key cannot open."""
        cached = self.cached(secret)
        if cached is not None:
            return cached
        digest = hashlib.sha256(secret.encode()).hexdigest()
        now = self._clock()
        with self._read() as session:
            row = find_hook(session, secret)
            if row is None:
                with self._lock:
                    self._found.pop(digest, None)
                return None
            try:
                key = delivery_key_of(self._ring, row)
            except SecretDecodeError as exc:
                raise KeyUnavailableError(row.id, str(exc)) from None
            hook = OpenHook(
                id=row.id,
                name=row.name,
                pinterest_connection_id=row.pinterest_connection_id,
                delivery_key=key,
            )
        with self._lock:
            self._found[digest] = (now, hook)
        return hook

    def forget(self) -> None:
        """Drop every cached hook (after removing one, or rotating keys)."""
        with self._lock:
            self._found.clear()

    def is_touch_due(self, hook_id: str) -> bool:
        """Say whether the hook's `last_delivery_at` is due a write; claim it if so."""
        return self._stamps.is_due(hook_id)

    def touch(self, hook_id: str) -> None:
        """Set the hook's `last_delivery_at` to now (best effort: a failure is only logged)."""
        self._stamps.touch(hook_id)
