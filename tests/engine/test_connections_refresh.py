"""Token refresh: one refresh across threads and engines, rotations saved atomically."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from leadwire.connectors.pinterest.oauth import TokenSet
from leadwire.engine.connections import (
    ConnectionSecrets,
    ConnectionStatus,
    PinterestConfig,
    Tokens,
    add_connection,
    load_connection,
    load_credentials,
    pinterest_token_saver,
    refresh_tokens,
    token_saver,
)
from leadwire.engine.secrets import KeyRing
from leadwire.errors import AuthError
from leadwire.settings import Settings
from leadwire.store.app import AppStore, open_app_store

T0 = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


@pytest.fixture
def ring(tmp_path: Path) -> KeyRing:
    return KeyRing.from_file(tmp_path / "keys.json")


def _add(store: AppStore, ring: KeyRing, *, expires_at: datetime = T0) -> str:
    with store.sessions() as session:
        connection = add_connection(
            session,
            ring,
            name="pins",
            config=PinterestConfig(
                api_base_url="http://127.0.0.1:1/v5", ad_account_id="1", client_id="app"
            ),
            values=ConnectionSecrets(client_secret="cs", access_token="a0", refresh_token="r0"),
            scopes=["ads:read"],
            access_expires_at=expires_at,
        )
        session.commit()
    return connection.id


class CountingRefresher:
    """Rotates both tokens on each call, slowly, counting calls (a stand-in for the server)."""

    def __init__(self) -> None:
        self.calls = 0
        self._lock = threading.Lock()

    def __call__(self, current: Tokens) -> Tokens:
        with self._lock:
            self.calls += 1
            n = self.calls
        # Long enough that an unserialised second caller would also arrive here.
        time.sleep(0.3)
        assert current.refresh_token == f"r{n - 1}", "refreshed with a spent refresh token"
        return Tokens(f"a{n}", f"r{n}", T0 + timedelta(hours=n), scopes=frozenset({"ads:read"}))


def _race(calls: list[Callable[[], Tokens]]) -> list[Tokens]:
    barrier = threading.Barrier(len(calls))
    results: list[Tokens | BaseException] = [RuntimeError("did not run")] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = calls[i]()
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    errors = [r for r in results if isinstance(r, BaseException)]
    assert not errors, errors
    return [r for r in results if isinstance(r, Tokens)]


@pytest.mark.parametrize("stale", ["a0", None], ids=["after-401", "near-expiry"])
def test_two_threads_refresh_once(app_store: AppStore, ring: KeyRing, stale: str | None) -> None:
    connection_id = _add(app_store, ring)
    refresher = CountingRefresher()

    def call() -> Tokens:
        return refresh_tokens(
            app_store,
            connection_id,
            refresher,
            ring=ring,
            stale_access_token=stale,
            clock=lambda: T0,
        )

    first, second = _race([call, call])
    assert refresher.calls == 1
    assert first == second
    assert (first.access_token, first.refresh_token) == ("a1", "r1")
    stored = load_credentials(app_store, ring, connection_id)
    assert (stored.secrets.access_token, stored.secrets.refresh_token) == ("a1", "r1")
    assert stored.connection.access_expires_at == T0 + timedelta(hours=1)


def test_two_engines_refresh_once(
    app_settings: Settings, app_store: AppStore, ring: KeyRing
) -> None:
    """Two engines (two pools, as two processes would have) still serialise on the database."""
    connection_id = _add(app_store, ring)
    other = open_app_store(app_settings, migrate=False)
    other_ring = KeyRing.from_file(ring.path or Path())
    refresher = CountingRefresher()
    try:
        results = _race(
            [
                lambda: refresh_tokens(
                    app_store, connection_id, refresher, ring=ring, stale_access_token="a0"
                ),
                lambda: refresh_tokens(
                    other, connection_id, refresher, ring=other_ring, stale_access_token="a0"
                ),
            ]
        )
    finally:
        other.engine.dispose()
    assert refresher.calls == 1
    assert results[0] == results[1]
    assert load_credentials(app_store, ring, connection_id).secrets.refresh_token == "r1"


def test_successive_refreshes_always_use_the_newest_refresh_token(
    app_store: AppStore, ring: KeyRing
) -> None:
    connection_id = _add(app_store, ring)
    refresher = CountingRefresher()
    for n in range(1, 4):
        tokens = refresh_tokens(
            app_store, connection_id, refresher, ring=ring, stale_access_token=f"a{n - 1}"
        )
        assert tokens.refresh_token == f"r{n}"
    assert refresher.calls == 3


def test_fresh_tokens_are_not_refreshed(app_store: AppStore, ring: KeyRing) -> None:
    connection_id = _add(app_store, ring, expires_at=T0 + timedelta(days=1))
    refresher = CountingRefresher()
    tokens = refresh_tokens(app_store, connection_id, refresher, ring=ring, clock=lambda: T0)
    assert tokens.access_token == "a0"
    again = refresh_tokens(app_store, connection_id, refresher, ring=ring, stale_access_token="old")
    assert again.access_token == "a0"
    assert refresher.calls == 0


def test_a_refused_refresh_marks_the_connection_failing(app_store: AppStore, ring: KeyRing) -> None:
    connection_id = _add(app_store, ring)

    def refuse(_: Tokens) -> Tokens:
        raise AuthError("pinterest.oauth.refresh_token: Pinterest refused the grant (HTTP 401)")

    with pytest.raises(AuthError):
        refresh_tokens(app_store, connection_id, refuse, ring=ring, clock=lambda: T0)
    connection = load_connection(app_store, connection_id)
    assert connection.status is ConnectionStatus.FAILING
    assert connection.failing_since == T0
    assert connection.last_error is not None
    assert connection.last_error.startswith("token refresh refused: pinterest.oauth")
    stored = load_credentials(app_store, ring, connection_id).secrets
    assert (stored.access_token, stored.refresh_token) == ("a0", "r0")


def test_on_tokens_callbacks_save_both_tokens(app_store: AppStore, ring: KeyRing) -> None:
    connection_id = _add(app_store, ring)
    save = token_saver(app_store, ring, connection_id)
    save(Tokens("a7", None, T0 + timedelta(hours=7)))  # no new refresh token: the old one stays
    stored = load_credentials(app_store, ring, connection_id)
    assert (stored.secrets.access_token, stored.secrets.refresh_token) == ("a7", "r0")
    assert stored.secrets.client_secret == "cs"
    on_tokens = pinterest_token_saver(app_store, ring, connection_id)
    on_tokens(
        TokenSet(
            access_token="a8",
            access_expires_at=T0 + timedelta(hours=8),
            refresh_token="r8",
            refresh_expires_at=T0 + timedelta(days=60),
            scopes=frozenset({"ads:read", "ads:write"}),
        )
    )
    stored = load_credentials(app_store, ring, connection_id)
    assert (stored.secrets.access_token, stored.secrets.refresh_token) == ("a8", "r8")
    assert stored.connection.access_expires_at == T0 + timedelta(hours=8)
    assert stored.connection.refresh_expires_at == T0 + timedelta(days=60)
    assert stored.connection.scopes == {"ads:read", "ads:write"}
