"""Logistics company names (datasource 100292): base data, cached for an hour."""

from __future__ import annotations

import asyncio

from aiocache.base import BaseCache

from bff.erp import LOGISTICS, ErpClient, LogisticsCompanyRecord

CACHE_KEY = "logistics:names"
TTL_S = 3600


class LogisticsNames:
    def __init__(self, erp: ErpClient, cache: BaseCache) -> None:
        self._erp = erp
        self._cache = cache
        self._lock = asyncio.Lock()

    async def names(self) -> dict[str, str]:
        cached = await self._cache.get(CACHE_KEY)
        if cached is not None:
            return dict(cached)
        async with self._lock:  # one refresh at a time in this process
            cached = await self._cache.get(CACHE_KEY)
            if cached is not None:
                return dict(cached)
            page = await self._erp.datasource(
                LOGISTICS.form_id, LOGISTICS.datasource_id, LOGISTICS.col_id, model=LogisticsCompanyRecord
            )
            names = {str(r.id): str(r.name) for r in page.rows}
            await self._cache.set(CACHE_KEY, names, ttl=TTL_S)
            return names
