"""course_lib.adapter_cache: the LRU adapter cache."""

from __future__ import annotations

import pytest

from course_lib.adapter_cache import LRUAdapterCache


def recording_cache(capacity):
    log = []
    cache = LRUAdapterCache(
        capacity, load=lambda n: log.append(("load", n)) or n.upper(), unload=lambda n, v: log.append(("unload", n, v))
    )
    return cache, log


def test_the_least_recently_used_adapter_goes_first():
    cache, log = recording_cache(2)
    assert cache.get("a") == "A" and cache.get("b") == "B"
    assert cache.get("a") == "A"  # a hit: no load, a becomes the most recent
    cache.get("c")  # evicts b, not a
    assert cache.names() == ["a", "c"]
    assert log == [("load", "a"), ("load", "b"), ("load", "c"), ("unload", "b", "B")]
    assert (cache.loads, cache.evictions, len(cache)) == (3, 1, 2)
    assert "a" in cache and "b" not in cache


def test_capacity_one_and_a_failing_load_leaves_the_cache_as_it_was():
    def load(name):
        if name == "missing":
            raise FileNotFoundError("adapter directory not found: missing")
        return name

    cache = LRUAdapterCache(1, load)
    cache.get("a")
    with pytest.raises(FileNotFoundError, match="missing"):
        cache.get("missing")
    assert cache.names() == ["a"] and cache.loads == 1
    cache.get("b")
    assert cache.names() == ["b"]


@pytest.mark.parametrize("capacity, error", [(0, ValueError), (-1, ValueError), (1.5, TypeError), (True, TypeError)])
def test_bad_capacity_is_refused_with_its_value(capacity, error):
    with pytest.raises(error, match="capacity"):
        LRUAdapterCache(capacity, load=str)
