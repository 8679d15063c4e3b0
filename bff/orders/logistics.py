"""Logistics companies: the names (datasource 100292, base data cached for an hour) and which
company carries each delivery.

Evidence: ``logisticsCompanyId`` is in a delivery's getBusiness detail; whether list rows carry
it is unknown. When a row carries it, that is used. When not, the company is read from the
delivery's detail in the background, outside any purchaser's request and its ERP budget, and
kept for a week (a dispatched delivery's carrier does not change): the page answers at once,
with the tracking number and the remark (which names the carrier in practice), and shows the
company from the next view on.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
from collections import OrderedDict
from collections.abc import Sequence

from aiocache.base import BaseCache

from bff.cache.remembered import RememberedEntries
from bff.erp import DELIVERIES, DeliveryRecord
from bff.erp import queries
from bff.erp.reader import ErpReader

logger = logging.getLogger("bff.orders")

NAMES_KEY = "logistics:names"
NAMES_TTL_S = 3600
COMPANY_KEY = "logistics:delivery:{id}"
COMPANY_TTL_S = 7 * 24 * 3600
NONE = ""  # cached "the detail names no company", so it is not read again
DETAIL_CONCURRENCY = 2
MAX_PENDING = 200
MAX_CARRIERS_KEPT = 50_000  # deliveries whose carrier this process remembers


class LogisticsNames:
    def __init__(self, erp: ErpReader, cache: BaseCache, *, detail_reads: bool = True) -> None:
        self._erp = erp
        self._cache = cache
        self._lock = asyncio.Lock()
        self._names = RememberedEntries(cache, max_entries=1)
        # A delivery's carrier, once known, never changes: remembered in this process (LRU).
        self._carriers: OrderedDict[str, str] = OrderedDict()
        self._detail_reads = detail_reads
        self._slots = asyncio.Semaphore(DETAIL_CONCURRENCY)
        self._pending: dict[str, asyncio.Task[None]] = {}
        self.detail_reads = 0  # background detail reads started (monitoring, tests)

    async def names(self) -> dict[str, str]:
        async with self._lock:  # one refresh at a time in this process
            names: dict[str, str] = await self._names.get(NAMES_KEY, NAMES_TTL_S, self._read_names) or {}
            return names

    async def _read_names(self) -> dict[str, str]:
        page = await self._erp.fetch_datasource(queries.logistics_companies())
        return {r.id: r.name for r in page.rows if r.name}

    async def companies_of(self, records: Sequence[DeliveryRecord], names: dict[str, str]) -> list[str | None]:
        """The name of the company carrying each of ``records`` (deliveries proven the caller's),
        where known: one cache read for all those neither carrying it nor remembered."""
        company_ids = [r.logisticsCompanyId if r.carries("logisticsCompanyId") else self._carriers.get(r.id) for r in records]
        unknown = [i for i, company_id in enumerate(company_ids) if company_id is None and not records[i].carries("logisticsCompanyId")]
        if unknown:
            cached = await self._cache.multi_get([COMPANY_KEY.format(id=records[i].id) for i in unknown])
            for i, company_id in zip(unknown, cached, strict=True):
                record = records[i]
                if company_id:
                    self._remember(record.id, company_id)
                elif company_id is None and (record.dispatched or record.logisticsCode):
                    self._read_detail_later(record.id)
                company_ids[i] = company_id
        return [names.get(company_id) if company_id else None for company_id in company_ids]

    def _remember(self, delivery_id: str, company_id: str) -> None:
        self._carriers[delivery_id] = company_id
        self._carriers.move_to_end(delivery_id)
        while len(self._carriers) > MAX_CARRIERS_KEPT:
            self._carriers.popitem(last=False)

    def _read_detail_later(self, delivery_id: str) -> None:
        if not self._detail_reads or delivery_id in self._pending or len(self._pending) >= MAX_PENDING:
            return
        # A fresh context: the read must not count toward, nor be cut by, the request's budget.
        task = asyncio.get_running_loop().create_task(self._read_detail(delivery_id), context=contextvars.Context())
        self._pending[delivery_id] = task
        task.add_done_callback(lambda _: self._pending.pop(delivery_id, None))

    async def _read_detail(self, delivery_id: str) -> None:
        self.detail_reads += 1
        async with self._slots:
            try:
                detail = await self._erp.get(DELIVERIES, delivery_id, model=DeliveryRecord)
            except Exception as error:  # noqa: BLE001 - a background nicety: the next view tries again
                logger.info("erp delivery detail for its carrier failed: %s", type(error).__name__)
                return
        company_id = (detail.logisticsCompanyId if detail is not None else None) or NONE
        await self._cache.set(COMPANY_KEY.format(id=delivery_id), company_id, ttl=COMPANY_TTL_S)

    async def settle(self) -> None:
        """Wait for the detail reads under way (tests, shutdown)."""
        while self._pending:
            await asyncio.gather(*list(self._pending.values()), return_exceptions=True)

    async def aclose(self) -> None:
        for task in list(self._pending.values()):
            task.cancel()
        await asyncio.gather(*list(self._pending.values()), return_exceptions=True)
