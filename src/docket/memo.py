"""Remember computed values up to a bound: the caches of the mapping and the server's lookups and answers."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Callable, Generic, Hashable, TypeVar

V = TypeVar("V")


class Memo(dict, Generic[V]):
    """A dict of computed values that forgets them all once it holds ``limit``.

    A crude bound, and enough where a few keys are asked for again and again (the central
    correspondents, the common IRIs): they come straight back after a clear.
    """

    def __init__(self, limit: int):
        super().__init__()
        self.limit = limit

    def get_or(self, key: Hashable, compute: Callable[[], V]) -> V:
        """Return the value for ``key``, computing and remembering it if it is not known (None is not kept)."""
        value = self.get(key)
        if value is None:
            if len(self) >= self.limit:
                self.clear()
            value = self[key] = compute()
        return value


class SizedCache(Generic[V]):
    """Keep values of known size, up to ``limit`` in all, forgetting the least recently used first.

    Sizes are bytes for answers worth keeping whole (a SPARQL result body), or 1 each for a count of
    entries (the fragments' pattern counts). A value larger than ``largest`` is not kept, so one huge
    answer cannot push out many small ones. Thread-safe.
    """

    def __init__(self, limit: int, largest: int | None = None):
        self.limit = max(0, limit)
        self.largest = min(self.limit, largest if largest is not None else self.limit // 8)
        self.size = 0
        self._items: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items.move_to_end(key)
            return found[0]

    def put(self, key: Hashable, value: V, size: int) -> bool:
        """Keep ``value`` (``size`` bytes) under ``key``; return whether it was kept."""
        if size > self.largest:
            return False
        with self._lock:
            old = self._items.pop(key, None)
            if old is not None:
                self.size -= old[1]
            while self._items and self.size + size > self.limit:
                _, (_, dropped) = self._items.popitem(last=False)
                self.size -= dropped
            self._items[key] = (value, size)
            self.size += size
            return True

    def __len__(self) -> int:
        return len(self._items)
