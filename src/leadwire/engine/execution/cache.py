"""A small bounded cache whose entries expire: repeat look-ups spend no quota, stale names age out.

Thread-safe; the oldest entry goes first when full. (Ten lines do not warrant a dependency.)
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """At most `size` entries, each kept `ttl_s` seconds."""

    def __init__(
        self, size: int, ttl_s: float, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if size < 1 or ttl_s <= 0:
            raise ValueError("a cache needs a positive size and lifetime")
        self._size = size
        self._ttl_s = ttl_s
        self._clock = clock
        self._items: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        """Return the live value of `key`, or None."""
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            if self._clock() >= found[0]:
                del self._items[key]
                return None
            return found[1]

    def put(self, key: K, value: V) -> None:
        """Keep `value` for `key`, dropping the oldest entry if the cache is full."""
        with self._lock:
            self._items.pop(key, None)
            self._items[key] = (self._clock() + self._ttl_s, value)
            while len(self._items) > self._size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)
