"""The read model: every read a purchaser's question can cause, declared once.

Each :class:`Declared` read names its key, its scoped batch read (a method of
:class:`bff.orders.reads.CustomerOrders`, whose call shapes come from ``bff/erp/queries.py``), how
its answer is proven the customer's, the declared reads it is made from, and what one batch of it
costs in ERP calls at most. Everything else comes from these declarations:

* the request's dataloaders (:class:`OrderLoaders`), one per read, built from its batch function;
* which reads each GraphQL field needs (:data:`FIELD_READS`), from which ``resolvers/cost.py``
  estimates an operation's ERP calls and plans what each root field starts alongside its own
  read (reads keyed by the customer, and reads keyed by the root's own id);
* the order card: the read ``order_card``, which the root field that returned the orders loads
  before answering, so that the card's fields are plain values.

A page of 20 cards costs: the orders, the customer's newest deliveries (started beside the
orders), and the lines of the 20 orders (one read, or one per order in the evidenced shape).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from strawberry.dataloader import DataLoader

from bff.core.domain import Fulfilment, Material, Order, Shipment, ShipmentLine, Tracking, TrackingState
from bff.erp.guesses import Guesses
from bff.notify.service import OrderNotes
from bff.notify.tracks import Ask, Kept, Parcels, ask_of, unsupported
from bff.orders.details import DETAIL_READS_PER_REQUEST
from bff.orders.progress import dispatched, fulfilment, material_summary
from bff.orders.reads import FILTER_CALLS, CustomerOrders, quietly

NotesReader = Callable[[list[str]], Awaitable[dict[str, OrderNotes]]]
Loaders = Mapping[str, DataLoader[Any, Any]]


@dataclass(frozen=True)
class Sources:
    """What batch functions read from: the customer's ERP reads, the BFF's own notes, and the
    parcel tracks (stored, or asked of the tracking service: never an ERP call)."""

    reads: CustomerOrders
    notes: NotesReader
    parcels: Parcels | None = None


@dataclass(frozen=True)
class Costing:
    """What reads may cost now. A guessed shape worth trying costs its try and, should the ERP
    ignore it in this very request, the evidenced shape as well; lists of unknown length (an
    order's materials or shipments) count ``max_list`` items."""

    guesses: Guesses
    max_list: int
    delivery_lines_listed: bool | None = None  # DeliveryLines.list_usable: proven, refuted, unknown

    def lines_of_orders(self, orders: int) -> int:
        """:func:`bff.orders.reads.read_lines`: one read per order, or the guessed list first."""
        tried = orders > 1 and self.guesses.line_order_filter.worth_trying
        return orders + (1 if tried else 0)

    def orders_by_codes(self, codes: int) -> int:
        return codes + (1 if self.guesses.code_filter.worth_trying else 0)

    def lines_of_deliveries(self, deliveries: int) -> int:
        """:class:`DeliveryLines`: one read per delivery, or the guessed parent list first."""
        tried = deliveries > 1 and self.delivery_lines_listed is not False
        return deliveries + (1 if tried else 0)

    def deliveries_of_orders(self, orders: int) -> int:
        """Ownership of the orders (read beside the page when not proven by it), one read by
        number per order older than the customer's newest deliveries, the carriers' names."""
        return 1 + orders + 1

    def keyword_search(self) -> int:
        """Orders, lines and (a keyword shaped like a tracking or delivery-note number) deliveries
        matching the text; when the lines' answer is cut short, the customer's latest order ids and
        (the guess) their lines matching."""
        return 4 + (1 if self.guesses.line_order_filter.worth_trying else 0)

    def shipping_filter(self) -> int:
        """:meth:`bff.orders.reads.CustomerOrders.filtered`: the open orders, the carriers' names,
        and at most ``FILTER_CALLS`` for lines and older orders' deliveries (refused beyond, before
        they are read). The page's lines that also check the ``order_rates`` guess are the cards'
        own reads (``order_lines``), read only when the cards are asked. Its reads of every open
        order's deliveries are those the page's ``order_shipments`` would make (the same shapes,
        read once a request), which it covers."""
        return 2 + FILTER_CALLS

    def carrying(self, materials: int) -> int:
        """A material's deliveries: the guessed ``salesOrderProductIds`` read per material, and
        the lines of every delivery of its order."""
        tried = materials if self.guesses.product_ids.worth_trying else 0
        return tried + self.lines_of_deliveries(materials * self.max_list)


@dataclass(frozen=True)
class Declared:
    """One purchaser read. ``calls(costing, keys)``: ERP calls of one batch of ``keys`` keys at
    most, beside the reads it ``needs`` (declared and counted on their own)."""

    name: str
    key: str
    owned: str
    calls: Callable[[Costing, int], int]
    batch: Callable[[Sources, Loaders, list[Any]], Awaitable[list[Any]]] | None = None
    needs: tuple[str, ...] = ()
    alongside: str | None = None  # a root field keyed like it: started beside that root's own read
    covers: tuple[str, ...] = ()  # declared reads whose calls this read makes itself (counted here, once)


# --- batch functions: each sees the sources and the loaders it needs, nothing else -------------
# (no loader refers back to its owner: the request's reads go when the answer is made, by
# reference counting, not at the garbage collector's next run; issue 11)


async def _notes(sources: Sources, _: Loaders, order_ids: list[str]) -> list[OrderNotes]:
    found = await sources.notes(order_ids)
    return [found[i] for i in order_ids]


async def _orders(sources: Sources, _: Loaders, ids: list[str]) -> list[Order | None]:
    found = await sources.reads.orders_by_ids(ids)
    return [found.get(i) for i in ids]


async def _orders_by_code(sources: Sources, _: Loaders, codes: list[str]) -> list[Order | None]:
    found = await sources.reads.orders_by_codes(codes)
    return [found.get(c) for c in codes]


async def _order_lines(sources: Sources, _: Loaders, order_ids: list[str]) -> list[list[Material]]:
    grouped = await sources.reads.materials_by_order(order_ids)  # each made for its order: via_order
    return [grouped.get(i, []) for i in order_ids]


async def _order_shipments(sources: Sources, _: Loaders, order_ids: list[str]) -> list[list[Shipment]]:
    grouped = await sources.reads.shipments_by_order(order_ids)
    return [[replace(s, via_order_id=i) for s in grouped.get(i, [])] for i in order_ids]


async def _lines_and_shipments(needs: Loaders, order_ids: list[str]) -> tuple[list[list[Material]], list[list[Shipment]]]:
    lines = needs["order_lines"].load_many(order_ids)  # both asked before either is awaited:
    shipments = needs["order_shipments"].load_many(order_ids)  # one batch each, side by side
    return await lines, await shipments


async def _order_materials(_: Sources, needs: Loaders, order_ids: list[str]) -> list[list[Material]]:
    """Each order's materials, ``shipped`` counting dispatched goods only (docs/delivery.md)."""
    materials, shipments = await _lines_and_shipments(needs, order_ids)
    return [dispatched(m, s) for m, s in zip(materials, shipments, strict=True)]


@dataclass(frozen=True)
class Card:
    """What an order's card shows beside the order row."""

    fulfilment: Fulfilment
    material_summary: str | None


async def _order_cards(sources: Sources, needs: Loaders, order_ids: list[str]) -> list[Card]:
    """Produced and dispatched shares by value, and the material summary: no delivery line read.
    The lines also tell whether the order rows' rates follow them (the ``order_rates`` guess)."""
    materials, shipments = await _lines_and_shipments(needs, order_ids)
    sources.reads.observe_rates(dict(zip(order_ids, materials, strict=True)))
    return [Card(fulfilment(m, s), material_summary(m)) for m, s in zip(materials, shipments, strict=True)]


async def _shipments(sources: Sources, _: Loaders, ids: list[str]) -> list[Shipment | None]:
    found = await sources.reads.shipments_by_ids(ids)
    return [found.get(i) for i in ids]


async def _shipment_lines(sources: Sources, _: Loaders, shipment_ids: list[str]) -> list[list[ShipmentLine]]:
    grouped = await sources.reads.shipment_lines(shipment_ids)
    return [grouped.get(i, []) for i in shipment_ids]


async def _shipment_details(sources: Sources, _: Loaders, shipment_ids: list[str]) -> list[Shipment | None]:
    found = await sources.reads.detailed(shipment_ids)
    return [found.get(i) for i in shipment_ids]


async def _tracks(sources: Sources, _: Loaders, numbers: list[str]) -> list[Kept | None]:
    found = await sources.parcels.kept(sources.reads.customer_id, numbers) if sources.parcels else {}
    return [found.get(n) for n in numbers]


TRACK_QUERIES_PER_REQUEST = 5  # real-time queries one request may cause (each number at most once per few minutes)


async def _shipment_tracking(sources: Sources, needs: Loaders, asks: list[Ask]) -> list[Tracking]:
    """Each shipment's track as stored; for a shipment opened (``Ask.live``) whose track is
    missing or stale, the tracking service's real-time query first (bff/notify/tracks.py)."""
    kept: list[Kept | None] = await needs["tracks"].load_many([a.number for a in asks])
    parcels = sources.parcels
    if parcels is not None:
        due = [i for i, (ask, k) in enumerate(zip(asks, kept, strict=True))
               if ask.live and not unsupported(ask, k) and parcels.due(k)][:TRACK_QUERIES_PER_REQUEST]
        fresh = await asyncio.gather(*(parcels.refresh(sources.reads.customer_id, asks[i], kept[i]) for i in due))
        for i, found in zip(due, fresh, strict=True):
            kept[i] = found or kept[i]
    return [_tracking(ask, k) for ask, k in zip(asks, kept, strict=True)]


def _tracking(ask: Ask, kept: Kept | None) -> Tracking:
    if unsupported(ask, kept):
        return Tracking(TrackingState.UNSUPPORTED, None, (), ask.carrier)
    if kept is None:
        return Tracking(TrackingState.UNKNOWN, None, (), ask.carrier)
    return replace(kept.tracking(), carrier=ask.carrier or kept.carrier)


def newest_dispatched(shipments: Sequence[Shipment]) -> Shipment | None:
    """The order's newest dispatched shipment with a tracking number (what its card follows)."""
    tracked = [s for s in shipments if ask_of(s, None, live=False) is not None]
    return max(tracked, key=lambda s: (s.ship_date is not None, s.ship_date or 0, s.id), default=None)


async def _stored_tracks(needs: Loaders, shipments: Iterable[Shipment]) -> dict[str, tuple[Ask, Kept | None]]:
    """The stored track of each dispatched shipment with a tracking number, by shipment id (never
    a query)."""
    asks = [a for s in shipments if (a := ask_of(s, s.logistics_company, live=False))]
    kept: list[Kept | None] = await needs["tracks"].load_many([a.number for a in asks])
    return {ask.shipment_id: (ask, track) for ask, track in zip(asks, kept, strict=True)}


async def _order_tracking(_: Sources, needs: Loaders, order_ids: list[str]) -> list[TrackingState | None]:
    """The card's parcel state: its newest shipment's stored track (never a query); None when no
    track moves (no shipment tracked, a carrier not followed, or not known yet): the same answer
    whether or not the list rows name the carrier, and whatever was opened before."""
    newest = [newest_dispatched(s) for s in await needs["order_shipments"].load_many(order_ids)]
    tracks = await _stored_tracks(needs, [s for s in newest if s is not None])
    states: list[TrackingState | None] = []
    for shipment in newest:
        found = tracks.get(shipment.id) if shipment is not None else None
        state = _tracking(*found).state if found is not None else None
        states.append(None if state in (None, TrackingState.UNKNOWN, TrackingState.UNSUPPORTED) else state)
    return states


async def _order_signed(_: Sources, needs: Loaders, order_ids: list[str]) -> list[dict[str, datetime | None]]:
    """Each order's shipments signed for, and when (the newest event of their stored tracks:
    never a query), for the timeline's 已签收 steps."""
    shipments: list[list[Shipment]] = await needs["order_shipments"].load_many(order_ids)
    tracks = await _stored_tracks(needs, [s for of_order in shipments for s in of_order])
    signed_at = {shipment_id: (track.events[0].time if track.events else None) or track.updated_at
                 for shipment_id, (_, track) in tracks.items()
                 if track is not None and track.state is TrackingState.SIGNED}
    return [{s.id: signed_at[s.id] for s in of_order if s.id in signed_at} for of_order in shipments]


async def _material_lines(sources: Sources, _: Loaders, ids: list[str]) -> list[Material | None]:
    found = await sources.reads.materials_by_ids(ids)
    return [found.get(i) for i in ids]


async def _materials(_: Sources, needs: Loaders, ids: list[str]) -> list[Material | None]:
    """Materials read alone (the material page): dispatched from the packed deliveries carrying each."""
    found, carrying = await asyncio.gather(needs["material_line"].load_many(ids), needs["material_shipments"].load_many(ids))
    return [dispatched([material], shipments, whole_order=False)[0] if material is not None else None
            for material, shipments in zip(found, carrying, strict=True)]


async def _material_shipments(sources: Sources, needs: Loaders, material_ids: list[str]) -> list[list[Shipment]]:
    materials = [m for m in await needs["material_line"].load_many(material_ids) if m is not None]
    grouped = await sources.reads.shipments_of_materials(materials)
    return [[replace(s, via_material_id=i) for s in grouped.get(i, [])] for i in material_ids]


SCOPED_ORDERS = "sales orders filtered by the customer, each row's customerId checked"
VIA_ORDERS = "returned only for orders proven the customer's (read beside them when not yet proven)"
SCOPED_DELIVERIES = "deliveries filtered by the customer, each row's customerOrSupplierId checked"
TRACKED = "numbers of shipments already proven the customer's; a stored track of another customer is never returned"

# In dependency order: a read's needs come before it.
READS: tuple[Declared, ...] = (
    Declared("customer", "the binding's customer id", "the viewer's own binding", lambda c, n: 1),
    Declared("bind", "an invite code or an ERP login", "the code or the login names the customer", lambda c, n: 2),
    Declared("order_page", "page and status", SCOPED_ORDERS, lambda c, n: 1),
    Declared("order_filter", "page, status, keyword and shipping (未发货 / 已逾期)", SCOPED_ORDERS + " (open ones, one "
             "read); their deliveries as order_shipments; lines only of orders proven the customer's",
             lambda c, n: c.shipping_filter(), needs=("recent_deliveries",), covers=("order_shipments",)),
    Declared("keyword_search", "keyword", SCOPED_ORDERS + "; matching lines kept for the customer's orders only",
             lambda c, n: c.keyword_search()),
    Declared("notes", "order id", "the viewer's own rows (database)", lambda c, n: 0, _notes),
    Declared("recent_deliveries", "none (the customer)", SCOPED_DELIVERIES, lambda c, n: 1),
    Declared("order", "order id", SCOPED_ORDERS, lambda c, n: 1, _orders),
    Declared("order_by_code", "order number", SCOPED_ORDERS + ", and its code equal to the number asked",
             lambda c, n: c.orders_by_codes(n), _orders_by_code),
    Declared("order_lines", "order id", VIA_ORDERS, lambda c, n: c.lines_of_orders(n) + 1, _order_lines,
             alongside="Query.order"),
    Declared("order_shipments", "order id", SCOPED_DELIVERIES + ", matched to orders proven the customer's",
             lambda c, n: c.deliveries_of_orders(n), _order_shipments, ("recent_deliveries",), alongside="Query.order"),
    Declared("order_materials", "order id", "made of order_lines and order_shipments", lambda c, n: 0,
             _order_materials, ("order_lines", "order_shipments")),
    Declared("order_card", "order id", "made of order_lines and order_shipments", lambda c, n: 0,
             _order_cards, ("order_lines", "order_shipments")),
    Declared("shipment", "delivery id", SCOPED_DELIVERIES, lambda c, n: 2, _shipments),  # and the carriers' names
    Declared("shipment_lines", "delivery id", SCOPED_DELIVERIES + ": lines read beside, returned once proven",
             lambda c, n: c.lines_of_deliveries(n) + 1, _shipment_lines, alongside="Query.shipment"),
    Declared("shipment_detail", "delivery id", "only deliveries already proven the customer's are read",
             lambda c, n: min(n, DETAIL_READS_PER_REQUEST), _shipment_details),
    Declared("material_line", "order line id", "order lines whose order is proven the customer's", lambda c, n: 2,
             _material_lines),
    Declared("material_shipments", "order line id", VIA_ORDERS + "; deliveries as order_shipments",
             lambda c, n: c.deliveries_of_orders(n) + c.carrying(n), _material_shipments,
             ("material_line", "recent_deliveries"), alongside="Query.material"),
    Declared("material", "order line id", "made of material_line and material_shipments", lambda c, n: 0,
             _materials, ("material_line", "material_shipments")),
    # Parcel tracks: the BFF's store and the tracking service, no ERP call (docs/tracking.md).
    Declared("tracks", "tracking number", TRACKED + " (database)", lambda c, n: 0, _tracks),
    Declared("shipment_tracking", "a dispatched shipment (Ask)", TRACKED + "; the real-time query only for an "
             "opened shipment, at most 5 a request and once per number per BFF_TRACKING_QUERY_EVERY_S",
             lambda c, n: 0, _shipment_tracking, ("tracks",)),
    Declared("order_tracking", "order id", "made of order_shipments and tracks", lambda c, n: 0,
             _order_tracking, ("order_shipments", "tracks")),
    Declared("order_signed", "order id", "made of order_shipments and tracks", lambda c, n: 0,
             _order_signed, ("order_shipments", "tracks")),
)
DECLARED: dict[str, Declared] = {read.name: read for read in READS}


@dataclass(frozen=True)
class FieldReads:
    """The declared reads a field needs (``via``: instead, when reached through that field)."""

    reads: tuple[str, ...]
    via: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def under(self, parent_field: str | None) -> tuple[str, ...]:
        return self.via.get(parent_field or "", self.reads)


CARD = FieldReads(("order_card",))
FIELD_READS: dict[str, FieldReads] = {
    # the keyword adds ``keyword_search``, the shipping filter ``order_filter``, an order by number
    # is ``order_by_code`` (resolvers/cost.py)
    "Query.orders": FieldReads(("order_page",)),
    "Query.order": FieldReads(("order",)),
    "Query.material": FieldReads(("material",)),
    "Query.shipment": FieldReads(("shipment",)),
    "Order.materials": FieldReads(("order_materials",)),
    "Order.progress": FieldReads(("order_materials",)),
    "Order.shipments": FieldReads(("order_shipments",)),
    "Order.timeline": FieldReads(("notes", "order_shipments", "order_card", "order_signed")),
    "Order.followed": FieldReads(("notes",)),
    "Order.deliveryStatus": CARD,
    "Order.shippedRate": CARD,
    "Order.deliveryText": CARD,
    "Order.producedRate": CARD,
    "Order.awaitingDispatchRate": CARD,
    "Order.progressExact": CARD,
    "Order.overdue": CARD,
    "Order.materialSummary": CARD,
    "Material.shipments": FieldReads(("material_shipments",), via={"Order.materials": ("order_shipments", "shipment_lines")}),
    "Shipment.lines": FieldReads(("shipment_lines",)),  # through a material: it is loaded already
    "Shipment.logisticsCompany": FieldReads(("shipment_detail",)),
    "Shipment.attachments": FieldReads(("shipment_detail",)),
    "Shipment.tracking": FieldReads(("shipment_tracking", "shipment_detail")),  # the carrier may be in the detail
    "Order.trackingState": FieldReads(("order_tracking",)),
    "Mutation.bindCompany": FieldReads(("bind",)),
    "Mutation.followOrder": FieldReads(("order",)),
    "Binding.company": FieldReads(("customer",)),
    "BindPayload.companyInfo": FieldReads(("customer",)),
}


def with_needs(names: Sequence[str]) -> list[str]:
    """These reads and every read they are made from, needs first."""
    wanted: set[str] = set()
    pending = list(names)
    while pending:
        name = pending.pop()
        if name not in wanted:
            wanted.add(name)
            pending.extend(DECLARED[name].needs)
    return [read.name for read in READS if read.name in wanted]


class OrderLoaders:
    """This request's loaders, one per declared read with a batch function."""

    def __init__(self, reads: CustomerOrders, notes: NotesReader, parcels: Parcels | None = None) -> None:
        self.reads = reads
        sources = Sources(reads, notes, parcels)
        self.loaders: dict[str, DataLoader[Any, Any]] = {}
        for read in READS:
            if read.batch is not None:
                needs = {name: self.loaders[name] for name in read.needs if name in self.loaders}
                self.loaders[read.name] = DataLoader(_bound(read.batch, sources, needs))

    def __getitem__(self, name: str) -> DataLoader[Any, Any]:
        return self.loaders[name]

    def start(self, planned: frozenset[str], root: str, root_key: str | None = None) -> None:
        """Start the planned reads that need nothing of the ``root`` field's answer: those keyed
        by the customer, and those keyed like the root's own id (each proves ownership itself)."""
        if "recent_deliveries" in planned:
            self.reads.start_recent_deliveries()
        if root_key is None:
            return
        for name in planned:
            if DECLARED[name].alongside == root:
                quietly(self.loaders[name].load(root_key))

    async def prepare(self, planned: frozenset[str], orders: Sequence[Order]) -> None:
        """What the root answers before its orders go out: the cards, when a field shows them."""
        if "order_card" in planned and orders:
            await self.loaders["order_card"].load_many([order.id for order in orders])

    def card(self, order: Order) -> Card:
        """The order's card, loaded by its root field (:meth:`prepare`)."""
        future = self.loaders["order_card"].cache_map.get(order.id)
        if future is None or not future.done():
            raise RuntimeError(f"order card of {order.id} not loaded: FIELD_READS misses a card field")
        card: Card = future.result()
        return card

    async def lines_of(self, shipment: Shipment) -> list[ShipmentLine]:
        """The shipment's lines for the order (or material) it was reached through; else all.
        A delivery carries one customer's goods only, so a line without links is still theirs."""
        lines = await self.loaders["shipment_lines"].load(shipment.id)
        if shipment.via_material_id is not None:
            material = await self.loaders["material"].load(shipment.via_material_id)
            return [line for line in lines if material is not None and line.carries(material)]
        if shipment.via_order_id is not None:
            return [line for line in lines if line.order_id in (None, shipment.via_order_id)]
        return list(lines)

    async def shipments_carrying(self, material: Material) -> list[Shipment]:
        """Of the material's order's shipments, those whose lines carry the material."""
        shipments = await self.loaders["order_shipments"].load(material.order_id)
        lines = await self.loaders["shipment_lines"].load_many([s.id for s in shipments])
        return [s for s, carried in zip(shipments, lines, strict=True) if any(line.carries(material) for line in carried)]


def _bound(
    batch: Callable[[Sources, Loaders, list[Any]], Awaitable[list[Any]]], sources: Sources, needs: Loaders,
) -> Callable[[list[Any]], Awaitable[list[Any]]]:
    async def load(keys: list[Any]) -> list[Any]:
        return await batch(sources, needs, keys)

    return load
