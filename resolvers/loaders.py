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
from functools import partial

from strawberry.dataloader import DataLoader

from bff.core.domain import Fulfilment, Material, Order, Shipment, ShipmentLine
from bff.notify.service import OrderNotes
from bff.orders.progress import dispatched, fulfilment, material_summary
from bff.orders.reads import CustomerOrders

NotesReader = Callable[[list[str]], Awaitable[dict[str, OrderNotes]]]


@dataclass(frozen=True)
class Card:
    """What an order's card shows beside the order row, computed once per order per request."""

    fulfilment: Fulfilment
    material_summary: str | None


class OrderLoaders:
    """This request's loaders. No batch function refers back to this object (each is handed only
    the reads and loaders it uses): a loader whose batch function was a method of its owner made
    a reference cycle, and every record and domain object of the request then waited for the
    garbage collector instead of going when the request did (issue 11)."""

    def __init__(self, reads: CustomerOrders, notes: NotesReader) -> None:
        self.reads = reads
        self.notes = DataLoader(partial(_notes, notes))  # the BFF's own facts: follows, observed changes
        self.order = DataLoader(partial(_orders, reads))
        self.order_by_code = DataLoader(partial(_orders_by_code, reads, self.order))
        self.shipments_by_order = DataLoader(partial(_shipments_by_order, reads))
        self.shipments_by_material = DataLoader(partial(_shipments_by_material, reads))
        self.shipment_lines = DataLoader(partial(_shipment_lines, reads))
        self.shipment_detail = DataLoader(partial(_shipment_details, reads))  # carrier and files, when unlisted
        self.material = DataLoader(partial(_materials, reads, self.shipments_by_material))
        self.erp_materials_by_order = DataLoader(partial(_erp_materials_by_order, reads))  # shipped = left the warehouse
        self.materials_by_order = DataLoader(  # shipped = dispatched
            partial(_dispatched_materials_by_order, self.erp_materials_by_order, self.shipments_by_order))
        self._cards: dict[str, Card] = {}

    def remember(self, orders: Sequence[Order]) -> None:
        for order in orders:
            self.order.prime(order.id, order)
            self.order_by_code.prime(order.code, order)

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


# --- batch functions: each sees only the reads and loaders it uses ------------------------------


async def _notes(read: NotesReader, order_ids: list[str]) -> list[OrderNotes]:
    found = await read(order_ids)
    return [found[i] for i in order_ids]


async def _orders(reads: CustomerOrders, ids: list[str]) -> list[Order | None]:
    found = await reads.orders_by_ids(ids)
    return [found.get(i) for i in ids]


async def _orders_by_code(reads: CustomerOrders, by_id: DataLoader[str, Order | None], codes: list[str]) -> list[Order | None]:
    found = await reads.orders_by_codes(codes)
    for order in found.values():
        by_id.prime(order.id, order)
    return [found.get(c) for c in codes]


async def _materials(
    reads: CustomerOrders, shipments_by_material: DataLoader[str, list[Shipment]], ids: list[str]
) -> list[Material | None]:
    """Materials read alone (the material page): dispatched from the packed deliveries carrying each."""
    found, carrying = await asyncio.gather(reads.materials_by_ids(ids), shipments_by_material.load_many(ids))
    return [dispatched([found[i]], shipments, whole_order=False)[0] if i in found else None
            for i, shipments in zip(ids, carrying, strict=True)]


async def _erp_materials_by_order(reads: CustomerOrders, order_ids: list[str]) -> list[list[Material]]:
    grouped = await reads.materials_by_order(order_ids)  # each made for its order: via_order
    return [grouped.get(i, []) for i in order_ids]


async def _dispatched_materials_by_order(
    erp_materials_by_order: DataLoader[str, list[Material]], shipments_by_order: DataLoader[str, list[Shipment]],
    order_ids: list[str],
) -> list[list[Material]]:
    """Each order's materials, ``shipped`` counting dispatched goods only (docs/delivery.md)."""
    materials, shipments = await asyncio.gather(
        erp_materials_by_order.load_many(order_ids), shipments_by_order.load_many(order_ids)
    )
    return [dispatched(m, sh) for m, sh in zip(materials, shipments, strict=True)]


async def _shipments_by_order(reads: CustomerOrders, order_ids: list[str]) -> list[list[Shipment]]:
    grouped = await reads.shipments_by_order(order_ids)
    return [[replace(s, via_order_id=i) for s in grouped.get(i, [])] for i in order_ids]


async def _shipments_by_material(reads: CustomerOrders, material_ids: list[str]) -> list[list[Shipment]]:
    grouped = await reads.shipments_by_material(material_ids)
    return [[replace(s, via_material_id=i) for s in grouped.get(i, [])] for i in material_ids]


async def _shipment_lines(reads: CustomerOrders, shipment_ids: list[str]) -> list[list[ShipmentLine]]:
    grouped = await reads.shipment_lines(shipment_ids)
    return [grouped.get(i, []) for i in shipment_ids]


async def _shipment_details(reads: CustomerOrders, shipment_ids: list[str]) -> list[Shipment | None]:
    found = await reads.detailed(shipment_ids)
    return [found.get(i) for i in shipment_ids]
