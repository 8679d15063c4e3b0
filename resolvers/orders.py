"""Order, material, progress, shipment and timeline resolvers: live, batched, scoped."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from bff.core.domain import Attachment, Fulfilment, Material, Order, OrderStatus, Progress, Shipment, ShipmentLine, TimelineStep
from bff.core.errors import BffError, ErrorCode
from bff.orders.progress import material_summary, total_progress
from bff.orders.timeline import build_timeline, is_overdue
from resolvers.context import Info
from resolvers.inputs import bad_input, text
from resolvers.loaders import Card, OrderLoaders
from resolvers.selection import selected_names

T = TypeVar("T")


@dataclass(frozen=True)
class OrderPage:
    items: list[Order]
    total: int
    page: int
    page_size: int
    query_time: datetime
    cache_hit: bool
    stale: bool
    as_of: datetime


def not_found() -> BffError:
    return BffError(ErrorCode.NOT_FOUND, "未找到该订单或物料，请确认单号是否属于贵司")


async def search_orders(
    info: Info, keyword: str | None, status: OrderStatus | None, page: int, page_size: int
) -> OrderPage:
    loaders = await info.context.order_loaders()
    max_size = info.context.services.settings.max_page_size
    if page < 1 or page > 10_000:
        raise bad_input("页码必须从 1 开始", "page")
    if not 1 <= page_size <= max_size:
        raise bad_input(f"每页条数必须在 1 到 {max_size} 之间", "pageSize")
    if status is OrderStatus.UNKNOWN:
        raise bad_input("不支持按“状态未知”筛选", "status")
    keyword = text(keyword, "keyword", max_len=50, label="搜索关键词")
    query_time = datetime.now(UTC)
    if selected_names(info, "items") & NEEDS_SHIPMENTS:
        loaders.reads.start_recent_deliveries()  # beside the orders' read: it needs nothing of them
    total, orders = await loaders.reads.search(keyword, status, page, page_size)
    loaders.remember(orders)
    if selected_names(info, "items") & CARD_FACTS:
        await loaders.know_cards(orders)
    as_of = loaders.reads.stale_as_of
    return OrderPage(orders, total, page, page_size, query_time, as_of is not None, as_of is not None, as_of or query_time)


async def order(info: Info, id: str | None, code: str | None) -> Order:
    loaders = await info.context.order_loaders()
    if (id is None) == (code is None):
        raise bad_input("请提供订单 id 或订单号其中之一", "id")
    if id is not None:
        order_id = text(id, "id", max_len=40, required=True) or ""
        prefetch_order_parts(info, loaders, order_id)
        found = await loaders.order.load(order_id)
    else:
        if selected_names(info) & NEEDS_SHIPMENTS:
            loaders.reads.start_recent_deliveries()
        found = await loaders.order_by_code.load(text(code, "code", max_len=40, required=True) or "")
    if found is None:
        raise not_found()
    if selected_names(info) & CARD_FACTS:
        await loaders.know_cards([found])
    return found


FULFILMENT = {"deliveryStatus", "deliveryText", "shippedRate", "producedRate", "awaitingDispatchRate", "progressExact", "overdue"}
NEEDS_MATERIALS = {"materials", "progress", "timeline", "materialSummary"} | FULFILMENT
NEEDS_SHIPMENTS = {"shipments", "timeline", "materials", "progress"} | FULFILMENT
CARD_FACTS = FULFILMENT | {"materialSummary"}


def prefetch_order_parts(info: Info, loaders: OrderLoaders, order_id: str) -> None:
    """Start the order's line reads alongside the order read: one round trip instead of two.

    The reads are gated on ownership (``CustomerOrders.owned``), so a foreign id yields nothing.
    """
    wanted = selected_names(info)
    if wanted & NEEDS_MATERIALS:
        _quietly(asyncio.ensure_future(loaders.materials_by_order.load(order_id)))
    if wanted & NEEDS_SHIPMENTS:
        loaders.reads.start_recent_deliveries()
        _quietly(asyncio.ensure_future(loaders.shipments_by_order.load(order_id)))


def _quietly(future: asyncio.Future[Any]) -> None:
    """A prefetch nobody awaits (e.g. the order was not found) must not log an unretrieved error;
    whoever awaits the same loader key still gets the error."""
    future.add_done_callback(lambda f: f.cancelled() or f.exception())


async def material(info: Info, id: str) -> Material:
    loaders = await info.context.order_loaders()
    material_id = text(id, "id", max_len=40, required=True) or ""
    if "shipments" in selected_names(info):  # read its shipment lines alongside it (gated on ownership)
        _quietly(asyncio.ensure_future(loaders.shipments_by_material.load(material_id)))
    found = await loaders.material.load(material_id)
    if found is None:
        raise not_found()
    return found


async def order_materials(info: Info, order: Order) -> list[Material]:
    loaders = await info.context.order_loaders()
    return await loaders.materials_by_order.load(order.id)


async def order_progress(info: Info, order: Order) -> Progress:
    return total_progress(await order_materials(info, order))


async def order_fulfilment(info: Info, order: Order) -> Fulfilment:
    loaders = await info.context.order_loaders()
    return await loaders.fulfilment(order)


def fulfilment_fact(info: Info, order: Order, pick: Callable[[Fulfilment], T]) -> T | Awaitable[T]:
    """A card fact: at once when the page computed its cards (``know_cards``), else awaited.
    graphql-core awaits an awaitable returned by a plain resolver, so both shapes are answers."""
    card = _known_card(info, order)
    return pick(card.fulfilment) if card is not None else _picked(order_fulfilment(info, order), pick)


def _known_card(info: Info, order: Order) -> Card | None:
    loaders = info.context.made_order_loaders
    return loaders.known_card(order.id) if loaders is not None else None


async def _picked(fulfilment: Awaitable[Fulfilment], pick: Callable[[Fulfilment], T]) -> T:
    return pick(await fulfilment)


def order_overdue(info: Info, order: Order) -> bool | Awaitable[bool]:
    return fulfilment_fact(info, order, lambda f: is_overdue(order, f, datetime.now(UTC)))


async def order_followed(info: Info, order: Order) -> bool:
    loaders = await info.context.order_loaders()
    return (await loaders.notes.load(order.id)).followed


def order_material_summary(info: Info, order: Order) -> str | Awaitable[str | None] | None:
    card = _known_card(info, order)
    return card.material_summary if card is not None else _material_summary(info, order)


async def _material_summary(info: Info, order: Order) -> str | None:
    loaders = await info.context.order_loaders()
    return material_summary(await loaders.erp_materials_by_order.load(order.id))


async def order_shipments(info: Info, order: Order) -> list[Shipment]:
    loaders = await info.context.order_loaders()
    return await loaders.shipments_by_order.load(order.id)


async def order_timeline(info: Info, order: Order) -> list[TimelineStep]:
    loaders = await info.context.order_loaders()
    notes, shipments, progress = await asyncio.gather(
        loaders.notes.load(order.id), order_shipments(info, order), order_fulfilment(info, order)
    )
    observed = notes.status_changes
    return build_timeline(order, shipments, progress, observed)


async def material_shipments(info: Info, material: Material) -> list[Shipment]:
    """Through its order when reached that way (the order's reads cover every material on the
    page); else the material's own reads."""
    loaders = await info.context.order_loaders()
    if not material.via_order:
        return await loaders.shipments_by_material.load(material.id)
    return await loaders.shipments_carrying(material)


async def shipment_carrier(info: Info, shipment: Shipment) -> str | None:
    """The carrier, from the delivery's ERP detail when neither its list row nor memory has it."""
    return (await _completed(info, shipment)).logistics_company if shipment.carrier_in_detail else shipment.logistics_company


async def shipment_files(info: Info, shipment: Shipment) -> list[Attachment]:
    """The attachments, from the delivery's ERP detail when its list row lacks them."""
    return list((await _completed(info, shipment)).attachments if shipment.files_in_detail else shipment.attachments)


async def _completed(info: Info, shipment: Shipment) -> Shipment:
    loaders = await info.context.order_loaders()
    return await loaders.shipment_detail.load(shipment.id) or shipment


async def shipment_lines(info: Info, shipment: Shipment) -> list[ShipmentLine]:
    loaders = await info.context.order_loaders()
    return await loaders.lines_of(shipment)
