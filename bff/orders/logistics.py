"""Logistics companies: the names (datasource 100292, base data cached for an hour) and which
company carries each delivery.

Evidence: ``logisticsCompanyId`` is in a delivery's getBusiness detail; whether list rows carry
it is unknown. When a row carries it, that is used; when a detail read (bff/orders/details.py,
on the first view that shows the carrier) found it, it is remembered for a week in the shared
cache and in this process (a dispatched delivery's carrier does not change).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Sequence

from aiocache.base import BaseCache

from bff.cache.remembered import RememberedEntries
from bff.erp import DeliveryRecord, queries
from bff.erp.reader import ErpReader

logger = logging.getLogger("bff.orders")

NAMES_KEY = "logistics:names"
NAMES_TTL_S = 3600
COMPANY_KEY = "logistics:delivery:{id}"
COMPANY_TTL_S = 7 * 24 * 3600
MAX_CARRIERS_KEPT = 50_000  # deliveries whose carrier this process remembers


class LogisticsNames:
    def __init__(self, erp: ErpReader, cache: BaseCache) -> None:
        self._erp = erp
        self._cache = cache
        self._lock = asyncio.Lock()
        self._names = RememberedEntries(cache, max_entries=1)
        # A delivery's carrier, once known, never changes: remembered in this process (LRU).
        self._carriers: OrderedDict[str, str] = OrderedDict()

    async def names(self) -> dict[str, str]:
        async with self._lock:  # one refresh at a time in this process
            names: dict[str, str] = await self._names.get(NAMES_KEY, NAMES_TTL_S, self._read_names) or {}
            return names

    async def _read_names(self) -> dict[str, str]:
        page = await self._erp.fetch_datasource(queries.logistics_companies())
        return {r.id: r.name for r in page.rows if r.name}

    async def companies_of(self, records: Sequence[DeliveryRecord], names: dict[str, str]) -> list[str | None]:
        """The name of the company carrying each of ``records`` (deliveries proven the caller's),
        where known: from the row, else as remembered (one cache read for all the others). A
        carrier known nowhere comes from the delivery's detail (bff/orders/details.py)."""
        company_ids = [r.logisticsCompanyId if r.carries("logisticsCompanyId") else self._carriers.get(r.id) for r in records]
        unknown = [i for i, company_id in enumerate(company_ids) if company_id is None and not records[i].carries("logisticsCompanyId")]
        if unknown:
            cached = await self._cache.multi_get([COMPANY_KEY.format(id=records[i].id) for i in unknown])
            for i, company_id in zip(unknown, cached, strict=True):
                if company_id:
                    self._remember(records[i].id, company_id)
                company_ids[i] = company_id
        return [names.get(company_id) if company_id else None for company_id in company_ids]

    async def keep(self, delivery_id: str, company_id: str) -> None:
        """A carrier read from the delivery's detail: never read again."""
        self._remember(delivery_id, company_id)
        await self._cache.set(COMPANY_KEY.format(id=delivery_id), company_id, ttl=COMPANY_TTL_S)

    def _remember(self, delivery_id: str, company_id: str) -> None:
        self._carriers[delivery_id] = company_id
        self._carriers.move_to_end(delivery_id)
        while len(self._carriers) > MAX_CARRIERS_KEPT:
            self._carriers.popitem(last=False)
