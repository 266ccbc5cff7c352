"""Remember computed values up to a bound: the one cache of the mapping and the server's lookups."""

from __future__ import annotations

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
