"""A bounded map that forgets the least recently used entry first: the gateway's per-process
caches of what is costly to work out again (plans, validations, prices, checked signatures).

Hand-written (an `OrderedDict` and three methods): `functools.lru_cache` memoises a function,
whereas these callers look up, then decide and store; no kept library is a dependency here.
One event loop, no locks.
"""

from collections import OrderedDict
from collections.abc import Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Recent(Generic[K, V]):
    """At most `kept` entries; a lookup that finds one makes it the most recent."""

    def __init__(self, kept: int) -> None:
        if kept < 1:
            raise ValueError(f"keep at least one entry, got {kept}")
        self.kept = kept
        self._entries: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        if key not in self._entries:
            return None
        self._entries.move_to_end(key)  # a kept None too (a plan found not to exist, say)
        return self._entries[key]

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: K, value: V) -> None:
        self._entries[key] = value
        self._entries.move_to_end(key)
        while len(self._entries) > self.kept:
            self._entries.popitem(last=False)
