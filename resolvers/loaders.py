"""Per-request dataloaders: one ERP read per form per batch, whatever the page size.

A page of 20 orders asking for materials, progress and shipments costs: the orders, the
lines of all 20 (one read), the delivery lines of all 20 (one read) and those deliveries
(one read). Logistics names come from the cached dictionary.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from strawberry.dataloader import DataLoader

from bff.domain import Material, Order, Shipment, ShipmentLine
from bff.orders.reads import CustomerOrders


class OrderLoaders:
    def __init__(self, reads: CustomerOrders) -> None:
        self.reads = reads
        self.order = DataLoader(self._orders)
        self.order_by_code = DataLoader(self._orders_by_code)
        self.material = DataLoader(self._materials)
        self.materials_by_order = DataLoader(self._materials_by_order)
        self.shipments_by_order = DataLoader(self._shipments_by_order)
        self.shipment_lines_by_order: dict[str, list[ShipmentLine]] = {}
        self.shipments_by_material = DataLoader(self._shipments_by_material)
        self.shipment_lines_by_material: dict[str, list[ShipmentLine]] = {}
        self.shipment_lines = DataLoader(self._shipment_lines)

    def remember(self, orders: Sequence[Order]) -> None:
        for order in orders:
            self.order.prime(order.id, order)
            self.order_by_code.prime(order.code, order)

    async def _orders(self, ids: list[str]) -> list[Order | None]:
        found = await self.reads.orders_by_ids(ids)
        return [found.get(i) for i in ids]

    async def _orders_by_code(self, codes: list[str]) -> list[Order | None]:
        found = await self.reads.orders_by_codes(codes)
        self.remember(list(found.values()))
        return [found.get(c) for c in codes]

    async def _materials(self, ids: list[str]) -> list[Material | None]:
        found = await self.reads.materials_by_ids(ids)
        return [found.get(i) for i in ids]

    async def _materials_by_order(self, order_ids: list[str]) -> list[list[Material]]:
        grouped = await self.reads.materials_by_order(order_ids)
        return [[replace(m, via_order=True) for m in grouped.get(i, [])] for i in order_ids]

    async def _shipments_by_order(self, order_ids: list[str]) -> list[list[Shipment]]:
        shipments, lines = await self.reads.shipments_by_order(order_ids)
        self.shipment_lines_by_order.update(lines)
        # Each order sees its shipments "through" itself, so their lines need no second read.
        return [[replace(s, via_order_id=i) for s in shipments.get(i, [])] for i in order_ids]

    async def _shipments_by_material(self, material_ids: list[str]) -> list[list[Shipment]]:
        shipments, lines = await self.reads.shipments_by_material(material_ids)
        self.shipment_lines_by_material.update(lines)
        return [[replace(s, via_material_id=i) for s in shipments.get(i, [])] for i in material_ids]

    async def lines_of(self, shipment: Shipment) -> list[ShipmentLine]:
        """The shipment's lines for the order (or material) it was reached through; else all its lines."""
        if shipment.via_order_id is not None:
            known = self.shipment_lines_by_order.get(shipment.via_order_id, [])
        elif shipment.via_material_id is not None:
            known = self.shipment_lines_by_material.get(shipment.via_material_id, [])
        else:
            return await self.shipment_lines.load(shipment.id)
        return [line for line in known if line.shipment_id == shipment.id]

    async def _shipment_lines(self, shipment_ids: list[str]) -> list[list[ShipmentLine]]:
        grouped = await self.reads.shipment_lines(shipment_ids)
        return [grouped.get(i, []) for i in shipment_ids]
