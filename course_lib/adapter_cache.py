"""A least-recently-used adapter cache, for serving many adapters from one frozen base (notebook 10).

:class:`LRUAdapterCache` loads an adapter on its first use through a ``load(name)`` function and keeps at most
``capacity`` of them; past that it drops the one used longest ago through ``unload(name, value)``. It is the
reference notebook 10 falls back to while the learner's own cache is not done.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable
from typing import Any


class LRUAdapterCache:
    """At most ``capacity`` loaded adapters, the least recently used dropped first.

    ``get(name)`` returns the cached value when ``name`` is loaded (and makes it the most recently used);
    otherwise it calls ``load(name)`` (an error there propagates and leaves the cache as it was), stores the
    result and, when that makes more than ``capacity``, drops the least recently used entry, calling
    ``unload(name, value)`` for it when given. ``names()`` lists the loaded names from least to most recently
    used; ``loads`` and ``evictions`` count the calls of ``load`` and ``unload``.
    """

    def __init__(self, capacity: int, load: Callable[[str], Any], unload: Callable[[str, Any], None] | None = None):
        if isinstance(capacity, bool) or not isinstance(capacity, int):
            raise TypeError(f"capacity must be an int, got {type(capacity).__name__} {capacity!r}")
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        if not callable(load):
            raise TypeError(f"load must be a function name -> adapter, got {type(load).__name__}")
        self.capacity, self.load, self.unload = capacity, load, unload
        self._entries: OrderedDict[str, Any] = OrderedDict()
        self.loads = 0
        self.evictions = 0

    def get(self, name: str) -> Any:
        if name in self._entries:
            self._entries.move_to_end(name)
            return self._entries[name]
        value = self.load(name)
        self.loads += 1
        self._entries[name] = value
        while len(self._entries) > self.capacity:
            old, old_value = self._entries.popitem(last=False)
            self.evictions += 1
            if self.unload is not None:
                self.unload(old, old_value)
        return value

    def names(self) -> list[str]:
        return list(self._entries)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"LRUAdapterCache(capacity={self.capacity}, loaded={self.names()}, loads={self.loads})"


__all__ = ["LRUAdapterCache"]
