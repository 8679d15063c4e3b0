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

from aiocache.base import BaseCache

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


class LogisticsNames:
    def __init__(self, erp: ErpReader, cache: BaseCache, *, detail_reads: bool = True) -> None:
        self._erp = erp
        self._cache = cache
        self._lock = asyncio.Lock()
        self._detail_reads = detail_reads
        self._slots = asyncio.Semaphore(DETAIL_CONCURRENCY)
        self._pending: dict[str, asyncio.Task[None]] = {}
        self.detail_reads = 0  # background detail reads started (monitoring, tests)

    async def names(self) -> dict[str, str]:
        cached = await self._cache.get(NAMES_KEY)
        if cached is not None:
            return dict(cached)
        async with self._lock:  # one refresh at a time in this process
            cached = await self._cache.get(NAMES_KEY)
            if cached is not None:
                return dict(cached)
            page = await self._erp.fetch_datasource(queries.logistics_companies())
            names = {r.id: r.name for r in page.rows if r.name}
            await self._cache.set(NAMES_KEY, names, ttl=NAMES_TTL_S)
            return names

    async def company_of(self, record: DeliveryRecord, names: dict[str, str]) -> str | None:
        """The name of the company carrying ``record`` (a delivery proven the caller's), if known."""
        if record.carries("logisticsCompanyId"):
            company_id = record.logisticsCompanyId
        else:
            company_id = await self._cache.get(COMPANY_KEY.format(id=record.id))
            if company_id is None and (record.dispatched or record.logisticsCode):
                self._read_detail_later(record.id)
        return names.get(company_id) if company_id else None

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
