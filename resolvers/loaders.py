"""Per-request dataloaders: one ERP read per form per batch, whatever the page size.

A page of 20 orders asking for materials, progress and shipments costs: the orders, the
lines of all 20 (one read, alongside the orders), and the deliveries carrying those lines
(one read). Logistics names come from the cached dictionary. A shipment's lines are read
only when asked (docs/erp-protocol.md: the evidenced shape is one read per delivery).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from strawberry.dataloader import DataLoader

from bff.core.domain import Fulfilment, Material, Order, Shipment, ShipmentLine
from bff.orders.progress import dispatched, fulfilment, material_summary
from bff.notify.service import OrderNotes
from bff.orders.reads import CustomerOrders


NotesReader = Callable[[list[str]], Awaitable[dict[str, OrderNotes]]]


@dataclass(frozen=True)
class Card:
    """What an order's card shows beside the order row, computed once per order per request."""

    fulfilment: Fulfilment
    material_summary: str | None


class OrderLoaders:
    def __init__(self, reads: CustomerOrders, notes: NotesReader) -> None:
        self.reads = reads
        self.notes = DataLoader(self._batch_notes(notes))  # the BFF's own facts: follows, observed changes
        self.order = DataLoader(self._orders)
        self.order_by_code = DataLoader(self._orders_by_code)
        self.material = DataLoader(self._materials)
        self.erp_materials_by_order = DataLoader(self._erp_materials_by_order)  # shipped = left the warehouse
        self.materials_by_order = DataLoader(self._materials_by_order)  # shipped = dispatched
        self.shipments_by_order = DataLoader(self._shipments_by_order)
        self.shipments_by_material = DataLoader(self._shipments_by_material)
        self.shipment_lines = DataLoader(self._shipment_lines)
        self._cards: dict[str, Card] = {}

    @staticmethod
    def _batch_notes(read: NotesReader) -> Callable[[list[str]], Awaitable[list[OrderNotes]]]:
        async def load(order_ids: list[str]) -> list[OrderNotes]:
            found = await read(order_ids)
            return [found[i] for i in order_ids]
        return load

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
        """Materials read alone (the material page): dispatched from the packed deliveries carrying each."""
        found, carrying = await asyncio.gather(self.reads.materials_by_ids(ids), self.shipments_by_material.load_many(ids))
        return [dispatched([found[i]], shipments, whole_order=False)[0] if i in found else None
                for i, shipments in zip(ids, carrying, strict=True)]

    async def _erp_materials_by_order(self, order_ids: list[str]) -> list[list[Material]]:
        grouped = await self.reads.materials_by_order(order_ids)  # each made for its order: via_order
        return [grouped.get(i, []) for i in order_ids]

    async def _materials_by_order(self, order_ids: list[str]) -> list[list[Material]]:
        """Each order's materials, ``shipped`` counting dispatched goods only (docs/delivery.md)."""
        materials, shipments = await asyncio.gather(
            self.erp_materials_by_order.load_many(order_ids), self.shipments_by_order.load_many(order_ids)
        )
        return [dispatched(m, sh) for m, sh in zip(materials, shipments, strict=True)]

    async def fulfilment(self, order: Order) -> Fulfilment:
        """Produced and dispatched shares of the order by value: no delivery line read. Computed
        once per order per request, though a card asks five fields of it."""
        materials = self.erp_materials_by_order.load(order.id)  # both asked before either is awaited:
        shipments = self.shipments_by_order.load(order.id)  # one batch each, read side by side
        return self._card(order.id, await materials, await shipments).fulfilment

    async def know_cards(self, orders: Sequence[Order]) -> None:
        """Every card fact of these orders (fulfilment, material summary) computed at once, from
        one batch per form: afterwards the card fields answer without awaiting, and a page of 20
        cards costs no asyncio task per field (the greater part of its CPU before)."""
        ids = [order.id for order in orders]
        materials = self.erp_materials_by_order.load_many(ids)  # both asked before either is awaited
        shipments = self.shipments_by_order.load_many(ids)
        for order_id, its_materials, its_shipments in zip(ids, await materials, await shipments, strict=True):
            self._card(order_id, its_materials, its_shipments)

    def known_card(self, order_id: str) -> Card | None:
        return self._cards.get(order_id)

    def _card(self, order_id: str, materials: list[Material], shipments: list[Shipment]) -> Card:
        """The order's card, made from its materials and shipments the first time it is asked."""
        card = self._cards.get(order_id)
        if card is None:
            card = self._cards[order_id] = Card(fulfilment(materials, shipments), material_summary(materials))
        return card

    async def _shipments_by_order(self, order_ids: list[str]) -> list[list[Shipment]]:
        grouped = await self.reads.shipments_by_order(order_ids)
        return [[replace(s, via_order_id=i) for s in grouped.get(i, [])] for i in order_ids]

    async def _shipments_by_material(self, material_ids: list[str]) -> list[list[Shipment]]:
        grouped = await self.reads.shipments_by_material(material_ids)
        return [[replace(s, via_material_id=i) for s in grouped.get(i, [])] for i in material_ids]

    async def _shipment_lines(self, shipment_ids: list[str]) -> list[list[ShipmentLine]]:
        grouped = await self.reads.shipment_lines(shipment_ids)
        return [grouped.get(i, []) for i in shipment_ids]

    async def lines_of(self, shipment: Shipment) -> list[ShipmentLine]:
        """The shipment's lines for the order (or material) it was reached through; else all.
        A delivery carries one customer's goods only, so a line without links is still theirs."""
        lines = await self.shipment_lines.load(shipment.id)
        if shipment.via_material_id is not None:
            material = await self.material.load(shipment.via_material_id)
            return [line for line in lines if material is not None and line.carries(material)]
        if shipment.via_order_id is not None:
            return [line for line in lines if line.order_id in (None, shipment.via_order_id)]
        return lines

    async def shipments_carrying(self, material: Material) -> list[Shipment]:
        """Of the material's order's shipments, those whose lines carry the material."""
        shipments = await self.shipments_by_order.load(material.order_id)
        lines = await self.shipment_lines.load_many([s.id for s in shipments])
        return [s for s, carried in zip(shipments, lines, strict=True) if any(line.carries(material) for line in carried)]
