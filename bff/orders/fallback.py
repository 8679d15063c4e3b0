"""The honest fallback (降级方案): the last good ERP answer per (customer, question).

While the ERP answers, nothing is served from here; every good answer is recorded. Only
when a read fails with ERP_UNAVAILABLE is the recorded answer returned, with its time,
so the caller can flag it ``stale`` with ``asOf``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiocache.base import BaseCache

from bff.errors import ErpUnavailable

DEFAULT_TTL_S = 24 * 3600

Rows = list[dict[str, Any]]


class LastGoodAnswers:
    def __init__(
        self, cache: BaseCache, ttl_s: int = DEFAULT_TTL_S, on_lookup: Callable[[bool], None] | None = None
    ) -> None:
        self._cache = cache
        self._ttl = ttl_s
        self._on_lookup = on_lookup  # hit (True) or miss (False) of a fallback lookup: a metric

    async def read(self, key: str, fetch: Callable[[], Awaitable[Any]]) -> tuple[Any, datetime | None]:
        """``(answer, None)`` when live; ``(last good answer, its time)`` when the ERP is down."""
        try:
            answer = await fetch()
        except ErpUnavailable:
            kept = await self._cache.get(f"lastgood:{key}")
            if self._on_lookup is not None:
                self._on_lookup(kept is not None)
            if kept is None:
                raise
            return kept["answer"], datetime.fromisoformat(kept["asOf"])
        await self._cache.set(
            f"lastgood:{key}", {"answer": answer, "asOf": datetime.now(UTC).isoformat()}, ttl=self._ttl
        )
        return answer, None
