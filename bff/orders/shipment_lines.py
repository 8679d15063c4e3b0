"""The lines of deliveries: how many reads that takes depends on what the live ERP supports.

Evidence: one delivery's lines are read with ``condition {"parent.id": <id>}`` (one read per
delivery). Guess: ``parent.id`` given a list answers several deliveries' lines at once, which
is usable only when each row says its parent. ``auto`` tries the list once per process and
falls back, for good, to one read per delivery if rows do not say their parent, if the ERP
refuses the list, or if the answer holds rows of other deliveries (the context was ignored).
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Sequence
from typing import Literal

from bff.core.domain import ShipmentLine
from bff.erp import queries
from bff.erp.errors import ErpRefused
from bff.erp.mapping import shipment_line_from_record
from bff.erp.reader import ErpReader

logger = logging.getLogger("bff.orders")

Mode = Literal["auto", "per-delivery", "parent-list"]


class DeliveryLines:
    def __init__(self, erp: ErpReader, mode: Mode = "auto") -> None:
        self._erp = erp
        self.mode = mode
        self.list_usable: bool | None = None if mode == "auto" else mode == "parent-list"

    async def of(self, delivery_ids: Sequence[str]) -> dict[str, list[ShipmentLine]]:
        ids = sorted(set(delivery_ids))
        if len(ids) > 1 and self.list_usable is not False:
            grouped = await self._by_list(ids)
            if grouped is not None:
                return grouped
        answers = await asyncio.gather(*(self._one(i) for i in ids))
        return dict(zip(ids, answers, strict=True))

    async def _one(self, delivery_id: str) -> list[ShipmentLine]:
        page = await self._erp.fetch(queries.lines_of_delivery(delivery_id))
        return [shipment_line_from_record(r, delivery_id, n) for n, r in enumerate(page.rows)]

    async def _by_list(self, ids: list[str]) -> dict[str, list[ShipmentLine]] | None:
        try:
            page = await self._erp.fetch(queries.lines_of_deliveries(ids))
        except ErpRefused:
            self._unusable("refused")
            return None
        if not page.rows:
            return None  # inconclusive: an ignored list and deliveries without lines look alike
        wanted = set(ids)
        if page.count > len(page.rows) or any(r.parentId not in wanted for r in page.rows):
            # rows without a parent cannot be told apart; foreign parents mean the list was ignored
            self._unusable("rows do not name an asked parent")
            return None
        self.list_usable = True
        grouped: dict[str, list[ShipmentLine]] = defaultdict(list)
        for n, record in enumerate(page.rows):
            parent = record.parentId or ""
            grouped[parent].append(shipment_line_from_record(record, parent, n))
        return {i: grouped.get(i, []) for i in ids}

    def _unusable(self, why: str) -> None:
        if self.mode == "auto" and self.list_usable is not False:
            logger.info("erp delivery lines: parent list unusable (%s); one read per delivery from now on", why)
            self.list_usable = False
        return
