"""Counts failed attempts per key in a fixed window, in the shared cache.

With Redis every BFF instance sees the same counts, so the limit holds across instances.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from aiocache.base import BaseCache

from bff.errors import BffError, ErrorCode


def _as_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


class FailureLimiter:
    def __init__(self, cache: BaseCache, *, name: str, max_failures: int, window_s: int) -> None:
        self._cache = cache
        self._name = name
        self._max = max_failures
        self._window = window_s

    def _keys(self, key: str) -> tuple[str, str]:
        return f"limit:{self._name}:{key}:count", f"limit:{self._name}:{key}:reset"

    async def check(self, key: str) -> None:
        """Raise RATE_LIMITED, saying when to retry, once the window's failures are used up."""
        count_key, reset_key = self._keys(key)
        # Counters are raw integers (INCR), not JSON: read them as such on every backend.
        count = int(await self._cache.get(count_key, loads_fn=_as_int) or 0)
        if count < self._max:
            return
        reset_at = float(await self._cache.get(reset_key) or time.time() + self._window)
        retry_at = datetime.fromtimestamp(reset_at, UTC)
        minutes = max(1, int((reset_at - time.time() + 59) // 60))
        raise BffError(
            ErrorCode.RATE_LIMITED,
            f"尝试次数过多，请 {minutes} 分钟后再试",
            retryAt=retry_at.isoformat(),
        )

    async def record_failure(self, key: str) -> None:
        count_key, reset_key = self._keys(key)
        try:  # add() is atomic (SET NX): the first failure opens the window
            await self._cache.add(count_key, 0, ttl=self._window)
            await self._cache.set(reset_key, time.time() + self._window, ttl=self._window)
        except ValueError:
            pass
        await self._cache.increment(count_key)

    async def reset(self, key: str) -> None:
        for k in self._keys(key):
            await self._cache.delete(k)
