"""Every ERP read a purchaser can cause, scoped to their customer.

The ERP does not stop a service account from reading any customer's data, so this class
is the guard: orders are always filtered by ``customerId`` *and* checked after the read;
lines and shipment lines may be read at the same time as their order (to save a round
trip) but are returned only for orders proven to be the customer's; deliveries are
filtered by the customer and checked. Each read records its answer for the stale fallback.
"""

from __future__ import annotations

import asyncio
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel

from bff.domain import Material, Order, OrderStatus, Shipment, ShipmentLine
from bff.erp import (
    DELIVERIES,
    DELIVERY_LINES,
    ORDER_LINES,
    SALES_ORDERS,
    DeliveryLineRecord,
    DeliveryRecord,
    ErpClient,
    OrderLineRecord,
    SalesOrderRecord,
)
from bff.orders.fallback import LastGoodAnswers
from bff.orders.logistics import LogisticsNames
from bff.orders.mapping import (
    CODES_BY_STATUS,
    fields,
    material_from_record,
    order_from_record,
    shipment_from_record,
    shipment_line_from_record,
)

M = TypeVar("M", bound=BaseModel)

BIG_PAGE = 5000
DELIVERY_COLUMNS = [
    "id", "code", "orderCodes", "salesOrderId", "salesOrderIds", "salesOrderCode", "date",
    "customerOrSupplierId", "finished", "contact", "tel", "mobile", "address", "logisticsCode",
    "logisticsCompanyId", "attachments", "发货日期", "已出库", "是否发货",
]


class CustomerOrders:
    def __init__(
        self, erp: ErpClient, last_good: LastGoodAnswers, logistics: LogisticsNames, customer_id: str
    ) -> None:
        self._erp = erp
        self._last_good = last_good
        self._logistics = logistics
        self.customer_id = customer_id
        self._orders: set[str] = set()  # order ids proven to be this customer's
        self._deliveries: dict[str, Any] = {}  # delivery id -> record, proven this customer's
        self.stale_as_of: datetime | None = None

    async def _list(self, model: type[M], form_id: int, **query: Any) -> tuple[int, list[M]]:
        key = f"{self.customer_id}:{form_id}:" + json.dumps(query, sort_keys=True, ensure_ascii=False)

        async def fetch() -> dict[str, Any]:
            page = await self._erp.list(form_id, model=model, **query)
            return {"count": page.count, "rows": [r.model_dump(mode="json", by_alias=True) for r in page.rows]}

        answer, as_of = await self._last_good.read(key, fetch)
        if as_of is not None and (self.stale_as_of is None or as_of < self.stale_as_of):
            self.stale_as_of = as_of
        return int(answer["count"]), [model.model_validate(row) for row in answer["rows"]]

    def _own_orders(self, records: Iterable[SalesOrderRecord]) -> list[Order]:
        orders = [order_from_record(r) for r in records]
        mine = [o for o in orders if o.customer_id == self.customer_id]  # never trust the filter alone
        self._orders.update(o.id for o in mine)
        return mine

    async def search(
        self, keyword: str | None, status: OrderStatus | None, page: int, page_size: int
    ) -> tuple[int, list[Order]]:
        filters: dict[str, Any] = {"customerId": self.customer_id}
        if status is not None:
            filters["status"] = CODES_BY_STATUS[status]
        if keyword:
            ids = await self._ids_matching(keyword, filters)
            if not ids:
                return 0, []
            filters["id"] = sorted(ids)
        count, records = await self._list(
            SalesOrderRecord, SALES_ORDERS, filters=filters, page=page - 1, page_size=page_size, orderby="date desc"
        )
        return count, self._own_orders(records)

    async def _ids_matching(self, keyword: str, filters: dict[str, Any]) -> set[str]:
        """Orders whose number matches, or which hold a material whose name or code matches."""
        by_order, by_line = await asyncio.gather(
            self._list(SalesOrderRecord, SALES_ORDERS, filters={**filters, "systemFulltext": keyword},
                       columns=["id", "code", "customerId", "status"], page_size=BIG_PAGE),
            self._list(OrderLineRecord, ORDER_LINES, filters={"systemFulltext": keyword},
                       columns=["id", "salesOrderId", "quantity"], page_size=BIG_PAGE),
        )
        ids = {str(fields(r)["id"]) for r in by_order[1]}
        return ids | {str(fields(r)["salesOrderId"]) for r in by_line[1]}  # scoped by customerId in the next read

    async def orders_in_statuses(
        self, statuses: Sequence[OrderStatus], page: int, page_size: int
    ) -> tuple[int, list[Order]]:
        """One page of the customer's orders in any of ``statuses`` (the change watcher's read)."""
        codes = sorted({code for status in statuses for code in CODES_BY_STATUS[status]})
        count, records = await self._list(
            SalesOrderRecord, SALES_ORDERS, filters={"customerId": self.customer_id, "status": codes},
            page=page - 1, page_size=page_size, orderby="id asc",
        )
        return count, self._own_orders(records)

    async def orders_by_ids(self, ids: Sequence[str]) -> dict[str, Order]:
        _, records = await self._list(
            SalesOrderRecord, SALES_ORDERS, filters={"id": sorted(set(ids)), "customerId": self.customer_id},
            page_size=len(set(ids)),
        )
        return {o.id: o for o in self._own_orders(records)}

    async def orders_by_codes(self, codes: Sequence[str]) -> dict[str, Order]:
        _, records = await self._list(
            SalesOrderRecord, SALES_ORDERS, filters={"code": sorted(set(codes)), "customerId": self.customer_id},
            page_size=len(set(codes)),
        )
        return {o.code: o for o in self._own_orders(records)}

    async def owned(self, order_ids: Iterable[str]) -> set[str]:
        """The subset of ``order_ids`` proven to be this customer's (reading the unproven ones)."""
        ids = set(order_ids)
        unknown = ids - self._orders
        if unknown:
            await self.orders_by_ids(sorted(unknown))  # identical in-flight reads are merged by the client
        return ids & self._orders

    async def materials_by_order(self, order_ids: Sequence[str]) -> dict[str, list[Material]]:
        ids = sorted(set(order_ids))
        (_, records), owned = await asyncio.gather(
            self._list(OrderLineRecord, ORDER_LINES, filters={"salesOrderId": ids}, page_size=BIG_PAGE),
            self.owned(ids),
        )
        grouped: dict[str, list[Material]] = defaultdict(list)
        for record in records:
            material = material_from_record(record)
            if material.order_id in owned:
                grouped[material.order_id].append(material)
        return grouped

    async def materials_by_ids(self, ids: Sequence[str]) -> dict[str, Material]:
        _, records = await self._list(OrderLineRecord, ORDER_LINES, filters={"id": sorted(set(ids))}, page_size=len(set(ids)))
        materials = [material_from_record(r) for r in records]
        if not materials:
            return {}
        owned = await self.orders_by_ids([m.order_id for m in materials])  # the customer check
        return {m.id: m for m in materials if m.order_id in owned}

    async def shipments_by_order(
        self, order_ids: Sequence[str]
    ) -> tuple[dict[str, list[Shipment]], dict[str, list[ShipmentLine]]]:
        """Each order's shipments and each order's shipment lines: two reads for any number of orders."""
        ids = sorted(set(order_ids))
        (_, line_records), owned = await asyncio.gather(
            self._list(DeliveryLineRecord, DELIVERY_LINES, filters={"salesOrderId": ids}, column_form=True, page_size=BIG_PAGE),
            self.owned(ids),
        )
        ids = [i for i in ids if i in owned]
        lines = [shipment_line_from_record(r) for r in line_records if str(fields(r).get("salesOrderId")) in owned]
        shipments = await self.shipments_by_ids({line.shipment_id for line in lines})
        by_order: dict[str, list[Shipment]] = defaultdict(list)
        lines_by_order: dict[str, list[ShipmentLine]] = defaultdict(list)
        for line in lines:
            if line.shipment_id in shipments and line.order_id:
                lines_by_order[line.order_id].append(line)
        for shipment in shipments.values():
            for order_id in ids:
                if order_id in shipment.order_ids or any(l.shipment_id == shipment.id for l in lines_by_order[order_id]):
                    by_order[order_id].append(shipment)
        return by_order, lines_by_order

    async def shipments_by_material(
        self, material_ids: Sequence[str]
    ) -> tuple[dict[str, list[Shipment]], dict[str, list[ShipmentLine]]]:
        """Each material's shipments and shipment lines, read alongside the material itself;
        returned only for materials proven to be the customer's."""
        ids = sorted(set(material_ids))

        async def lines_and_their_shipments() -> tuple[list[ShipmentLine], dict[str, Shipment]]:
            _, records = await self._list(
                DeliveryLineRecord, DELIVERY_LINES, filters={"salesOrderLineId": ids}, column_form=True, page_size=BIG_PAGE
            )
            lines = [shipment_line_from_record(r) for r in records]
            # Safe before ownership is known: deliveries are read scoped to this customer.
            return lines, await self.shipments_by_ids({line.shipment_id for line in lines})

        (lines, shipments), owned = await asyncio.gather(lines_and_their_shipments(), self.materials_by_ids(ids))
        lines = [line for line in lines if line.material_id in owned]
        by_material: dict[str, list[Shipment]] = defaultdict(list)
        lines_by_material: dict[str, list[ShipmentLine]] = defaultdict(list)
        for line in lines:
            if line.shipment_id in shipments and line.material_id:
                lines_by_material[line.material_id].append(line)
                if shipments[line.shipment_id] not in by_material[line.material_id]:
                    by_material[line.material_id].append(shipments[line.shipment_id])
        return by_material, lines_by_material

    async def shipments_by_ids(self, ids: Iterable[str]) -> dict[str, Shipment]:
        wanted = sorted(set(ids))
        if not wanted:
            return {}
        _, records = await self._list(
            DeliveryRecord, DELIVERIES, filters={"id": wanted, "customerOrSupplierId": self.customer_id},
            columns=DELIVERY_COLUMNS, page_size=len(wanted),
        )
        names = await self._logistics.names()
        result = {}
        for record in records:
            shipment = shipment_from_record(record, names)
            if str(fields(record).get("customerOrSupplierId")) == self.customer_id:
                self._deliveries[shipment.id] = record
                result[shipment.id] = shipment
        return result

    async def shipment_lines(self, shipment_ids: Sequence[str]) -> dict[str, list[ShipmentLine]]:
        ids = sorted(set(shipment_ids) & set(self._deliveries))
        grouped: dict[str, list[ShipmentLine]] = defaultdict(list)
        if not ids:
            return grouped
        _, records = await self._list(
            DeliveryLineRecord, DELIVERY_LINES, filters={"parentId": ids}, column_form=True, page_size=BIG_PAGE
        )
        for record in records:
            line = shipment_line_from_record(record)
            grouped[line.shipment_id].append(line)
        return grouped

    def delivery_record(self, shipment_id: str) -> Any | None:
        return self._deliveries.get(shipment_id)
