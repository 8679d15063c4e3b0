"""Every ERP read a purchaser can cause, scoped to their customer.

The ERP does not stop a service account from reading any customer's data, so this class
is the guard: orders are always filtered by the customer *and* checked after the read;
lines may be read at the same time as their order (to save a round trip) but are returned
only for orders proven to be the customer's; deliveries are filtered by the customer and
checked. A foreign id and a missing id cost the same reads. Each read records its answer
for the stale fallback. Call shapes come from :mod:`bff.erp.queries`; this module speaks
the domain.
"""

from __future__ import annotations

import asyncio
import dataclasses
import unicodedata
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bff.core import jsoncodec
from bff.core.domain import Material, Order, OrderStatus, Shipment, ShipmentLine
from bff.erp import queries
from bff.erp.reader import ErpReader
from bff.erp.mapping import (
    CODES_BY_STATUS,
    material_from_record,
    order_from_record,
    shipment_from_record,
)
from bff.erp.models import DeliveryRecord, ErpPage, OrderLineRecord, SalesOrderRecord
from bff.erp.queries import R
from bff.core.errors import BffError, ErrorCode
from bff.orders.fallback import LastGoodAnswers
from bff.orders.logistics import LogisticsNames
from bff.orders.shipment_lines import DeliveryLines

NO_SUCH_ID = "0"  # read in place of a missing record's order, so missing and foreign cost the same
MIN_KEYWORD_CHARS = 2  # or one CJK character: shorter keywords match nearly everything


def keyword_too_short(keyword: str) -> bool:
    if len(keyword) >= MIN_KEYWORD_CHARS:
        return False
    return not any(unicodedata.east_asian_width(char) in ("W", "F") for char in keyword)


class CustomerOrders:
    def __init__(
        self,
        erp: ErpReader,
        last_good: LastGoodAnswers,
        logistics: LogisticsNames,
        customer_id: str,
        delivery_lines: DeliveryLines | None = None,
    ) -> None:
        self._erp = erp
        self._last_good = last_good
        self._logistics = logistics
        self._delivery_lines = delivery_lines or DeliveryLines(erp)
        self.customer_id = customer_id
        self._orders: dict[str, Order] = {}  # proven this customer's
        self._line_reads: dict[str, asyncio.Future[dict[str, list[OrderLineRecord]]]] = {}
        self._deliveries: dict[str, DeliveryRecord] = {}  # proven this customer's
        self._searched = False
        self.stale_as_of: datetime | None = None

    # --- the one way to read: scoped by the query, recorded for the fallback -----------------

    async def _read(self, read: queries.ListRead[R], *, keep: bool = True) -> tuple[int, list[R]]:
        """``keep=False``: not remembered for the stale fallback (keyword searches: unbounded keys)."""
        key = f"{self.customer_id}:{read.form_id}:" + jsoncodec.canonical(
            [read.condition, read.filters, read.columns, read.page, read.page_size, read.orderby]
        )

        def encode(page: ErpPage[R]) -> dict[str, Any]:
            rows = [r.model_dump(mode="json", by_alias=True, exclude_unset=True) for r in page.rows]
            return {"count": page.count, "rows": rows}

        answer, as_of = await self._last_good.read(key, lambda: self._erp.fetch(read), keep=keep, encode=encode)
        if as_of is None:  # live: the records as the ERP client read them
            return answer.count, list(answer.rows)
        if self.stale_as_of is None or as_of < self.stale_as_of:
            self.stale_as_of = as_of
        return int(answer["count"]), [read.model.model_validate(row) for row in answer["rows"]]

    def _own_orders(self, records: Iterable[SalesOrderRecord]) -> list[Order]:
        mine = [order_from_record(r) for r in records if r.customerId == self.customer_id]  # never trust the filter alone
        self._orders.update((o.id, o) for o in mine)
        return mine

    # --- orders ----------------------------------------------------------------------------

    async def search(
        self, keyword: str | None, status: OrderStatus | None, page: int, page_size: int
    ) -> tuple[int, list[Order]]:
        statuses = CODES_BY_STATUS[status] if status is not None else None
        ids: list[str] | None = None
        if keyword:
            ids = sorted(await self._ids_matching(keyword))
            if not ids:
                return 0, []
        count, records = await self._read(queries.orders_of_customer(
            self.customer_id, ids=ids, statuses=statuses, page=page - 1, page_size=page_size
        ), keep=not keyword)
        return count, self._own_orders(records)

    async def _ids_matching(self, keyword: str) -> set[str]:
        """The customer's orders whose text matches, or which hold a material whose text matches.
        Every read is scoped to the customer in the ERP request itself; one search per request."""
        if self._searched:
            raise BffError(ErrorCode.BAD_USER_INPUT, "每次请求只能进行一次关键词搜索")
        if keyword_too_short(keyword):
            raise BffError(ErrorCode.BAD_USER_INPUT, f"搜索关键词至少 {MIN_KEYWORD_CHARS} 个字符（或 1 个汉字）")
        self._searched = True
        columns = queries.ORDER_COLUMNS_FOR_MATCH
        (_, by_text), (_, recent) = await asyncio.gather(
            self._read(queries.orders_of_customer(
                self.customer_id, keyword=keyword, columns=columns, page_size=queries.MAX_ROWS), keep=False),
            self._read(queries.orders_of_customer(self.customer_id, columns=columns, page_size=queries.SEARCH_SCOPE_ORDERS)),
        )
        mine = {r.id for r in recent if r.customerId == self.customer_id}
        lines: list[OrderLineRecord] = []
        if mine:
            _, lines = await self._read(queries.lines_of_orders(
                sorted(mine), keyword=keyword, columns=queries.LINE_COLUMNS_FOR_MATCH), keep=False)
        matched = {r.id for r in by_text if r.customerId == self.customer_id}
        return matched | {line.salesOrderId for line in lines if line.salesOrderId in mine}

    async def orders_in_statuses(
        self, statuses: Sequence[OrderStatus], page: int, page_size: int
    ) -> tuple[int, list[Order]]:
        """One page of the customer's orders in any of ``statuses`` (the change watcher's read)."""
        codes = sorted({code for status in statuses for code in CODES_BY_STATUS[status]})
        count, records = await self._read(queries.orders_of_customer(
            self.customer_id, statuses=codes, page=page - 1, page_size=page_size, orderby="id asc"
        ))
        return count, self._own_orders(records)

    async def orders_by_ids(self, ids: Sequence[str]) -> dict[str, Order]:
        wanted = sorted(set(ids)) or [NO_SUCH_ID]
        _, records = await self._read(queries.orders_of_customer(self.customer_id, ids=wanted, page_size=len(wanted)))
        return {o.id: o for o in self._own_orders(records)}

    async def orders_by_codes(self, codes: Sequence[str]) -> dict[str, Order]:
        wanted = sorted(set(codes))
        _, records = await self._read(queries.orders_of_customer(self.customer_id, codes=wanted, page_size=len(wanted)))
        return {o.code: o for o in self._own_orders(records)}

    async def owned(self, order_ids: Iterable[str]) -> set[str]:
        """The subset of ``order_ids`` proven to be this customer's (reading the unproven ones)."""
        ids = set(order_ids)
        unknown = ids - self._orders.keys()
        if unknown:
            await self.orders_by_ids(sorted(unknown))  # identical in-flight reads are merged by the client
        return ids & self._orders.keys()

    # --- materials (order lines) --------------------------------------------------------------

    async def _lines_of(self, order_ids: Sequence[str]) -> dict[str, list[OrderLineRecord]]:
        """Order lines per order, read once per request whoever asks first (materials, shipments)."""
        missing = sorted({i for i in order_ids if i not in self._line_reads})
        if missing:
            read = asyncio.ensure_future(self._read_lines(missing))
            for order_id in missing:
                self._line_reads[order_id] = read
        grouped: dict[str, list[OrderLineRecord]] = {}
        for answer in await asyncio.gather(*{self._line_reads[i] for i in order_ids}):
            grouped.update(answer)
        return {i: grouped.get(i, []) for i in order_ids}

    async def _read_lines(self, order_ids: list[str]) -> dict[str, list[OrderLineRecord]]:
        _, records = await self._read(queries.lines_of_orders(order_ids))
        grouped: dict[str, list[OrderLineRecord]] = defaultdict(list)
        for record in records:
            grouped[record.salesOrderId].append(record)
        return grouped

    async def materials_by_order(self, order_ids: Sequence[str]) -> dict[str, list[Material]]:
        """Each order's materials, as reached through it (``via_order``)."""
        ids = sorted(set(order_ids))
        lines, owned = await asyncio.gather(self._lines_of(ids), self.owned(ids))
        return {i: [material_from_record(r, via_order=True) for r in lines[i]] for i in ids if i in owned}

    async def materials_by_ids(self, ids: Sequence[str]) -> dict[str, Material]:
        _, records = await self._read(queries.lines_by_ids(ids))
        materials = [material_from_record(r) for r in records]
        owned = await self.owned([m.order_id for m in materials] or [NO_SUCH_ID])  # the customer check, always made
        return {m.id: m for m in materials if m.order_id in owned}

    # --- shipments (deliveries) ---------------------------------------------------------------

    async def shipments_by_order(self, order_ids: Sequence[str]) -> dict[str, list[Shipment]]:
        """Each order's shipments: the customer's deliveries carrying the orders' lines (one read
        for any number of orders), matched to orders by the deliveries' own link fields."""
        ids = sorted(set(order_ids))
        lines, owned = await asyncio.gather(self._lines_of(ids), self.owned(ids))
        line_ids = [line.id for order_id in ids if order_id in owned for line in lines[order_id]]
        by_order: dict[str, list[Shipment]] = defaultdict(list)
        if not line_ids:
            return by_order
        codes = {self._orders[i].code: i for i in owned}
        for shipment in await self._shipments(queries.deliveries_carrying(self.customer_id, line_ids)):
            carried = {i for i in shipment.order_ids if i in owned} | {codes[c] for c in shipment.order_codes if c in codes}
            for order_id in sorted(carried):
                by_order[order_id].append(shipment)
        return by_order

    async def shipments_by_material(self, material_ids: Sequence[str]) -> dict[str, list[Shipment]]:
        """Each material's shipments: one read per material of the deliveries carrying it (the
        evidenced context), made alongside the material's own read and kept only if it is owned."""
        ids = sorted(set(material_ids))
        owned, found = await asyncio.gather(
            self.materials_by_ids(ids),
            asyncio.gather(*(self._shipments(queries.deliveries_carrying(self.customer_id, [i])) for i in ids)),
        )
        return {i: shipments for i, shipments in zip(ids, found, strict=True) if i in owned}

    async def shipments_by_ids(self, ids: Iterable[str]) -> dict[str, Shipment]:
        wanted = sorted(set(ids)) or [NO_SUCH_ID]
        return {s.id: s for s in await self._shipments(queries.deliveries_by_ids(self.customer_id, wanted))}

    async def _shipments(self, read: queries.ListRead[DeliveryRecord]) -> list[Shipment]:
        (_, records), names = await asyncio.gather(self._read(read), self._logistics.names())
        mine = [r for r in records if r.customerOrSupplierId == self.customer_id]
        self._deliveries.update((r.id, r) for r in mine)
        companies = await self._logistics.companies_of(mine, names)
        return [shipment_from_record(r, company) for r, company in zip(mine, companies, strict=True)]

    async def shipment_lines(self, shipment_ids: Sequence[str]) -> dict[str, list[ShipmentLine]]:
        """Lines of shipments already proven this customer's (others are not read)."""
        ids = sorted(set(shipment_ids) & self._deliveries.keys())
        return await self._delivery_lines.of(ids) if ids else {}

    def delivery_record(self, shipment_id: str) -> DeliveryRecord | None:
        return self._deliveries.get(shipment_id)



# --- the change watcher's read across many customers ------------------------------------------

async def orders_of_customers(
    erp: ErpReader, customer_ids: Iterable[str], *, statuses: Sequence[int] | None = None, ids: Sequence[str] | None = None,
    per_read: int = queries.CUSTOMERS_PER_READ,
) -> list[SalesOrderRecord]:
    """These customers' orders (in ``statuses``, or among ``ids``) in as few paged reads as the
    list filter allows: ``per_read`` customers and :data:`queries.MAX_ROWS` rows a read. Rows of any other customer are dropped (the filter is a guess, never trusted).
    Not remembered for the stale fallback: a failed read raises and the caller skips the cycle."""
    customers = sorted(set(customer_ids))
    id_chunks: list[list[str] | None] = [None] if ids is None else [
        sorted(set(ids))[i:i + queries.MAX_ROWS] for i in range(0, len(set(ids)), queries.MAX_ROWS)]
    found: list[SalesOrderRecord] = []
    for start in range(0, len(customers), per_read):
        chunk = customers[start:start + per_read]
        allowed = set(chunk)
        for id_chunk in id_chunks:
            page = 0
            while True:
                answer = await erp.fetch(queries.orders_of_customers(chunk, ids=id_chunk, statuses=statuses, page=page))
                found.extend(r for r in answer.rows if r.customerId in allowed)
                page += 1
                if len(answer.rows) < queries.MAX_ROWS or page * queries.MAX_ROWS >= answer.count:
                    break
    return found


async def _pages(erp: ErpReader, read: queries.ListRead[R]) -> list[R]:
    """Every page of a read (``MAX_ROWS`` rows a page)."""
    rows: list[R] = []
    page = 0
    while True:
        answer = await erp.fetch(dataclasses.replace(read, page=page))
        rows.extend(answer.rows)
        page += 1
        if len(answer.rows) < read.page_size or len(rows) >= answer.count:
            return rows


async def details_of_customers(
    erp: ErpReader, logistics: LogisticsNames, records: Sequence[SalesOrderRecord], *, per_read: int = queries.CUSTOMERS_PER_READ,
) -> tuple[dict[str, list[Material]], dict[str, list[Shipment]]]:
    """Lines and shipments of these orders (rows of :func:`orders_of_customers`, so proven their
    customers'), read for many customers at once: the lines of 100 orders a read, the deliveries
    carrying them for ``per_read`` customers a read. A line counts only for an order asked for;
    a delivery only for orders of the customer it names (never trust a filter alone)."""
    orders = {r.id: r for r in records}
    ids = sorted(orders)
    step = queries.ORDERS_PER_DETAIL_READ
    lines: dict[str, list[OrderLineRecord]] = defaultdict(list)
    for start in range(0, len(ids), step):
        for line in await _pages(erp, queries.lines_of_orders(ids[start:start + step])):
            if line.salesOrderId in orders:
                lines[line.salesOrderId].append(line)
    line_ids: dict[str, list[str]] = defaultdict(list)  # customer -> its orders' line ids
    for order_id, mine in lines.items():
        line_ids[orders[order_id].customerId].extend(line.id for line in mine)
    by_code = {(r.customerId, r.code): r.id for r in records if r.code}
    shipments: dict[str, list[Shipment]] = defaultdict(list)
    customers = sorted(line_ids)
    names = await logistics.names() if customers else {}
    for start in range(0, len(customers), per_read):
        chunk = customers[start:start + per_read]
        wanted = [i for c in chunk for i in line_ids[c]]
        for read in range(0, len(wanted), step * 8):  # about 8 lines an order
            found = [d for d in await _pages(erp, queries.deliveries_carrying_for(chunk, wanted[read:read + step * 8]))
                     if d.customerOrSupplierId in chunk]
            for delivery, company in zip(found, await logistics.companies_of(found, names), strict=True):
                owner = delivery.customerOrSupplierId
                shipment = shipment_from_record(delivery, company)
                carried = {i for i in shipment.order_ids if i in orders and orders[i].customerId == owner}
                carried |= {by_code[(owner, c)] for c in shipment.order_codes if (owner, c) in by_code}
                for order_id in sorted(carried):
                    if all(s.id != shipment.id for s in shipments[order_id]):
                        shipments[order_id].append(shipment)
    materials = {i: [material_from_record(line) for line in lines.get(i, [])] for i in ids}
    return materials, {i: shipments.get(i, []) for i in ids}
