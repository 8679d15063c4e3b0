"""A delivery's ERP detail (getBusiness), for what its list row may lack: the carrier and the
attachments.

Evidence: ``logisticsCompanyId`` and ``attachments`` are in a delivery's getBusiness detail (the
public client made one detail call per delivery for them); whether list rows carry them is
unknown (simulator dialects ``logistics_in_list``, ``attachments_in_list``). So a page that shows
a shipment's carrier or files reads the detail of each shipment whose row lacks them, on the
first view, beside the other reads of its round trip; details are kept briefly in the shared cache
(files may be added to a delivery, the carrier of a dispatched one does not change).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiocache.base import BaseCache

from bff.erp import DELIVERIES, DeliveryRecord
from bff.erp.errors import ErpError
from bff.erp.reader import ErpReader

logger = logging.getLogger("bff.orders")

DETAIL_KEY = "erp:delivery-detail:{id}"
DETAIL_TTL_S = 300
DETAIL_FIELDS = ("logisticsCompanyId", "attachments")
DETAIL_READS_PER_REQUEST = 20  # a page of shipments; beyond, shipments show as listed


def carrier_in_detail(record: DeliveryRecord, company: str | None) -> bool:
    """The carrier of a shipment on its way, when neither its row nor memory (``company``) has it."""
    on_its_way = bool(record.dispatched or record.logisticsCode)
    return company is None and on_its_way and not record.carries("logisticsCompanyId")


def files_in_detail(record: DeliveryRecord) -> bool:
    return not record.carries("attachments")


def with_detail(record: DeliveryRecord, detail: DeliveryRecord | None) -> DeliveryRecord:
    """The list row completed by its detail's carrier and attachments (as listed without one)."""
    if detail is None:
        return record
    found = {name: getattr(detail, name) for name in DETAIL_FIELDS if detail.carries(name)}
    return record.model_copy(update=found) if found else record


class DeliveryDetails:
    def __init__(self, erp: ErpReader, cache: BaseCache | None, *, enabled: bool = True) -> None:
        self._erp = erp
        self._cache = cache
        self.enabled = enabled  # BFF_ERP_LOGISTICS_DETAIL: off, shipments show as listed
        self.reads = 0  # getBusiness reads made (monitoring, tests)

    async def of(self, delivery_ids: Sequence[str]) -> dict[str, DeliveryRecord]:
        """Details of deliveries already proven the caller's; one that cannot be read is left out
        (the shipment then shows as listed: a detail never fails a page)."""
        ids = sorted(set(delivery_ids)) if self.enabled else []
        kept: list[Any] = await self._cache.multi_get([DETAIL_KEY.format(id=i) for i in ids]) if self._cache else [None] * len(ids)
        found = {i: _record(i, value) for i, value in zip(ids, kept, strict=True) if value is not None}
        missing = [i for i in ids if i not in found]
        for delivery_id, detail in zip(missing, await asyncio.gather(*(self._read(i) for i in missing)), strict=True):
            if detail is not None:
                found[delivery_id] = detail
        return found

    async def _read(self, delivery_id: str) -> DeliveryRecord | None:
        self.reads += 1
        try:
            detail = await self._erp.get(DELIVERIES, delivery_id, model=DeliveryRecord)
        except ErpError as error:
            logger.info("erp delivery detail not read: %s", type(error).__name__)
            return None
        if detail is not None and self._cache is not None:
            kept = detail.model_dump(mode="json", by_alias=True, include=set(DETAIL_FIELDS), exclude_unset=True)
            await self._cache.set(DETAIL_KEY.format(id=delivery_id), kept, ttl=DETAIL_TTL_S)
        return detail


def _record(delivery_id: str, kept: dict[str, Any]) -> DeliveryRecord:
    return DeliveryRecord.model_validate({"id": delivery_id, "customerOrSupplierId": "0", **kept})
