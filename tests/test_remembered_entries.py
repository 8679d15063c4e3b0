"""Shared entries remembered in-process: never longer than the shared entry's own expiry."""

from __future__ import annotations

from aiocache import SimpleMemoryCache
from aiocache.serializers import JsonSerializer

from bff.cache.remembered import KEY_PREFIX, RememberedEntries


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class Loader:
    def __init__(self, value: object) -> None:
        self.value, self.calls = value, 0

    async def __call__(self) -> object:
        self.calls += 1
        return self.value


async def test_an_entry_is_loaded_once_shared_and_remembered_until_its_own_expiry() -> None:
    cache, clock = SimpleMemoryCache(serializer=JsonSerializer()), Clock()
    first, second = RememberedEntries(cache, clock=clock), RememberedEntries(cache, clock=clock)
    load = Loader({"name": "华东机电"})
    assert await first.get("k", 60, load) == {"name": "华东机电"}
    clock.now += 30
    assert await second.get("k", 60, load) == {"name": "华东机电"}  # another instance: from the shared cache
    assert load.calls == 1
    await cache.delete(KEY_PREFIX + "k")  # no round trip while remembered: the deletion is not seen...
    assert await second.get("k", 60, load) == {"name": "华东机电"} and load.calls == 1
    clock.now += 30  # ...but the shared entry's expiry ends the memory too
    load.value = {"name": "华东机电（新）"}
    assert await second.get("k", 60, load) == {"name": "华东机电（新）"} and load.calls == 2


async def test_an_instance_remembers_a_shared_entry_only_for_what_is_left_of_it() -> None:
    cache, clock = SimpleMemoryCache(serializer=JsonSerializer()), Clock()
    writer, reader = RememberedEntries(cache, clock=clock), RememberedEntries(cache, clock=clock)
    load = Loader(["a"])
    await writer.get("k", 60, load)
    clock.now += 50
    assert await reader.get("k", 60, load) == ["a"]  # read with 10 s left
    await cache.set(KEY_PREFIX + "k", {"entry": ["b"], "until": clock.now + 60})
    clock.now += 11
    assert await reader.get("k", 60, load) == ["b"] and load.calls == 1


async def test_keys_of_their_own_an_unknown_shape_reloaded_and_a_missing_answer_not_kept() -> None:
    cache, clock = SimpleMemoryCache(serializer=JsonSerializer()), Clock()
    entries = RememberedEntries(cache, clock=clock)
    await cache.set(KEY_PREFIX + "k", {"name": "a shape nobody writes"})
    load = Loader({"name": "今"})
    assert await entries.get("k", 60, load) == {"name": "今"} and load.calls == 1
    # The previous release, sharing the cache in a rolling deploy, reads "k" in its own shape.
    assert await cache.get("k") is None
    missing = Loader(None)
    assert await entries.get("gone", 60, missing) is None
    assert await entries.get("gone", 60, missing) is None and missing.calls == 2
    assert await cache.get("gone") is None
