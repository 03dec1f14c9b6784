"""The receiver's hook look-ups: kept for a few seconds, never for unknown secrets."""

from __future__ import annotations

from leadwire.engine.sources import create_hook, remove_hook
from leadwire.web.hook_cache import HookDirectory
from tests.web.conftest import Web, new_key


class Clock:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_found_hook_is_kept_for_the_ttl_and_an_unknown_one_never(web: Web) -> None:
    clock = Clock()
    store = web.store
    hooks = HookDirectory(
        store.read_sessions, store.sessions, web.services.ring, ttl_s=5.0, clock=clock
    )
    found = hooks.find(web.secret)
    assert found is not None
    assert (found.id, found.name, found.delivery_key) == (web.hook_id, "pins", web.key)
    assert web.key not in repr(found)

    with store.sessions() as session:
        remove_hook(session, "pins")
        _, secret = create_hook(session, web.services.ring, name="new", delivery_key=new_key())
        session.commit()
    assert hooks.find(web.secret) == found  # within the TTL: no query
    assert hooks.find(secret) is not None  # a new hook works at once
    clock.now += 5.0
    assert hooks.find(web.secret) is None
    hooks.forget()
    assert hooks.find("a" * 43) is None


def test_touches_are_due_once_per_interval_per_hook(web: Web) -> None:
    clock = Clock()
    hooks = HookDirectory(
        web.store.read_sessions,
        web.store.sessions,
        web.services.ring,
        touch_interval_s=60.0,
        clock=clock,
    )
    assert hooks.is_touch_due("hk_a")
    assert not hooks.is_touch_due("hk_a")
    assert hooks.is_touch_due("hk_b")
    clock.now += 59.9
    assert not hooks.is_touch_due("hk_a")
    clock.now += 0.1
    assert hooks.is_touch_due("hk_a")
