"""The honest fallback (降级方案): the last good ERP answer per (customer, question).

While the ERP answers, nothing is served from here; every good answer is recorded. Only
when a read fails with ERP_UNAVAILABLE is the recorded answer returned, with its time,
so the caller can flag it ``stale`` with ``asOf``.

Bounded per customer (the part of the key before the first ``:``): at most ``max_keys``
answers and ``max_bytes`` of them, the least recently written evicted first; an answer
larger than the whole allowance, or a read with ``keep=False`` (keyword searches), is not
kept. Concurrent writers may leave an evicted answer behind until its TTL ends.

Keeping costs a serialisation of the answer, so a key is rewritten at most once per
``refresh_s`` per instance: at the 9:00 rush the same first page is read hundreds of times a
minute, and a fallback at most ``refresh_s`` older than the newest answer is just as honest
(it carries its own time).
"""

from __future__ import annotations

import json
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiocache.base import BaseCache

from bff.erp.errors import ErpUnavailable

DEFAULT_TTL_S = 24 * 3600

class LastGoodAnswers:
    def __init__(
        self,
        cache: BaseCache,
        ttl_s: int = DEFAULT_TTL_S,
        on_lookup: Callable[[bool], None] | None = None,
        *,
        max_keys: int = 64,
        max_bytes: int = 2_000_000,
        refresh_s: float = 30.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._cache = cache
        self._ttl = ttl_s
        self._on_lookup = on_lookup  # hit (True) or miss (False) of a fallback lookup: a metric
        self._max_keys = max_keys
        self._max_bytes = max_bytes
        self._refresh_s = refresh_s
        self._kept_recently: set[str] = set()  # keys kept since the window began (bounded by it)
        self._monotonic = monotonic
        self._window_began = monotonic()

    async def read(
        self, key: str, fetch: Callable[[], Awaitable[Any]], *, keep: bool = True,
        encode: Callable[[Any], Any] | None = None,
    ) -> tuple[Any, datetime | None]:
        """``(answer, None)`` when live; ``(last good answer, its time)`` when the ERP is down.
        With ``encode``, what is kept (and returned when down) is ``encode(answer)``, made only
        when a key is due: a live answer is never serialised just to be read back."""
        try:
            answer = await fetch()
        except ErpUnavailable:
            kept = await self._cache.get(f"lastgood:{key}")
            if self._on_lookup is not None:
                self._on_lookup(kept is not None)
            if kept is None:
                raise
            return kept["answer"], datetime.fromisoformat(kept["asOf"])
        if keep and self._due(key):
            kept_answer = encode(answer) if encode is not None else answer
            await self._keep(key, {"answer": kept_answer, "asOf": datetime.now(UTC).isoformat()})
        return answer, None

    def _due(self, key: str) -> bool:
        """Whether ``key`` was not kept yet in this refresh window (and now counts as kept)."""
        now = self._monotonic()
        if now - self._window_began >= self._refresh_s:
            self._kept_recently.clear()
            self._window_began = now
        if key in self._kept_recently:
            return False
        self._kept_recently.add(key)
        return True

    async def _keep(self, key: str, value: dict[str, Any]) -> None:
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > self._max_bytes:
            return
        index_key = "lastgood-index:" + key.split(":", 1)[0]
        index: list[list[Any]] = [e for e in (await self._cache.get(index_key) or []) if e[0] != key]
        index.append([key, size])  # oldest first
        while len(index) > self._max_keys or sum(e[1] for e in index) > self._max_bytes:
            evicted, _ = index.pop(0)
            await self._cache.delete(f"lastgood:{evicted}")
        await self._cache.set(f"lastgood:{key}", value, ttl=self._ttl)
        await self._cache.set(index_key, index, ttl=self._ttl)
