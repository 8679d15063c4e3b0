"""Shared cache entries remembered in this process until their own expiry.

Some entries are read on nearly every request (a customer's name and standing, the logistics
companies' names): a cache round trip to Redis costs this process about as much CPU as a cheap
request's GraphQL work. Each entry is written with the time it expires (``until``), so every
instance may keep it in memory exactly that long and no longer: remembering adds no staleness
beyond the shared entry's own.

The entries live under keys of their own (``kept:`` + key): during a rolling deploy the
previous release shares the cache, and must never read this shape under a name it knows.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiocache.base import BaseCache

Entry = Any  # a JSON value
MAX_REMEMBERED = 10_000
KEY_PREFIX = "kept:"


class RememberedEntries:
    def __init__(self, cache: BaseCache, *, max_entries: int = MAX_REMEMBERED, clock: Callable[[], float] = time.time) -> None:
        self._cache = cache
        self._max_entries = max_entries
        self._clock = clock  # wall time: the expiry is shared by instances
        self._kept: dict[str, tuple[float, Entry]] = {}

    async def get(self, key: str, ttl_s: int, load: Callable[[], Awaitable[Entry | None]]) -> Entry | None:
        """The entry under ``key``: remembered, shared, or loaded and shared for ``ttl_s``
        seconds; never older than that. A None load is neither shared nor remembered."""
        kept = self._kept.get(key)
        if kept is not None and self._clock() < kept[0]:
            return kept[1]
        shared = await self._cache.get(KEY_PREFIX + key)
        if not isinstance(shared, dict) or "entry" not in shared or not isinstance(shared.get("until"), (int, float)):
            loaded = await load()  # absent, or written in an older shape
            if loaded is None:
                return None
            shared = {"entry": loaded, "until": self._clock() + ttl_s}
            await self._cache.set(KEY_PREFIX + key, shared, ttl=ttl_s)
        if len(self._kept) >= self._max_entries:
            self._kept.clear()
        self._kept[key] = (shared["until"], shared["entry"])
        return shared["entry"]
