"""Order, material, progress, shipment and timeline resolvers: live, batched, scoped."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime

from bff.core.domain import (
    Attachment,
    Material,
    Order,
    OrderStatus,
    Progress,
    Shipment,
    ShipmentLine,
    ShippingFilter,
    TimelineStep,
    Tracking,
    TrackingState,
)
from bff.core.errors import BffError, ErrorCode
from bff.notify.service import OrderNotes
from bff.notify.tracks import ask_of
from bff.orders.progress import total_progress
from bff.orders.timeline import build_timeline, is_overdue
from resolvers.context import Info
from resolvers.inputs import bad_input, text
from resolvers.loaders import Card


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


def _planned(info: Info) -> frozenset[str]:
    """The declared reads this root field's selection needs (resolvers/cost.py)."""
    return info.context.plan.of(str(info.path.key))


async def search_orders(
    info: Info, keyword: str | None, status: OrderStatus | None, page: int, page_size: int,
    shipping: ShippingFilter | None = None,
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
    planned = _planned(info)
    if shipping is not None:
        loaders.reads.widen_deliveries()  # before the deliveries' read starts beside the orders
    loaders.start(planned, "Query.orders")
    if shipping is not None:
        total, orders = await loaders.reads.filtered(
            shipping, keyword, status, page, page_size, query_time, cards="order_card" in planned)
    else:
        total, orders = await loaders.reads.search(keyword, status, page, page_size)
    await loaders.prepare(planned, orders)
    as_of = loaders.reads.stale_as_of
    return OrderPage(orders, total, page, page_size, query_time, as_of is not None, as_of is not None, as_of or query_time)


async def order(info: Info, id: str | None, code: str | None) -> Order:
    loaders = await info.context.order_loaders()
    if (id is None) == (code is None):
        raise bad_input("请提供订单 id 或订单号其中之一", "id")
    planned = _planned(info)
    if id is not None:
        order_id = text(id, "id", max_len=40, required=True) or ""
        loaders.start(planned, "Query.order", order_id)  # its lines and deliveries beside it (each proves ownership)
        found: Order | None = await loaders["order"].load(order_id)
    else:
        loaders.start(planned, "Query.order")
        found = await loaders["order_by_code"].load(text(code, "code", max_len=40, required=True) or "")
    if found is None:
        raise not_found()
    await loaders.prepare(planned, [found])
    return found


async def material(info: Info, id: str) -> Material:
    loaders = await info.context.order_loaders()
    material_id = text(id, "id", max_len=40, required=True) or ""
    loaders.start(_planned(info), "Query.material", material_id)
    found: Material | None = await loaders["material"].load(material_id)
    if found is None:
        raise not_found()
    return found


async def shipment(info: Info, id: str) -> Shipment:
    """One delivery of the caller's company, by id: what it carries is one more read."""
    loaders = await info.context.order_loaders()
    shipment_id = text(id, "id", max_len=40, required=True) or ""
    loaders.start(_planned(info), "Query.shipment", shipment_id)
    found: Shipment | None = await loaders["shipment"].load(shipment_id)
    if found is None:
        raise BffError(ErrorCode.NOT_FOUND, "未找到该发货单，请确认发货单是否属于贵司")
    return found


async def order_materials(info: Info, order: Order) -> list[Material]:
    loaders = await info.context.order_loaders()
    materials: list[Material] = await loaders["order_materials"].load(order.id)
    return materials


async def order_progress(info: Info, order: Order) -> Progress:
    return total_progress(await order_materials(info, order))


def order_card(info: Info, order: Order) -> Card:
    """The order's card, loaded by the root field that returned the order."""
    loaders = info.context.order_loaders_made()
    return loaders.card(order)


def order_overdue(info: Info, order: Order) -> bool:
    return is_overdue(order, order_card(info, order).fulfilment, datetime.now(UTC))


async def order_followed(info: Info, order: Order) -> bool:
    loaders = await info.context.order_loaders()
    notes: OrderNotes = await loaders["notes"].load(order.id)
    return notes.followed


def order_material_summary(info: Info, order: Order) -> str | None:
    return order_card(info, order).material_summary


async def order_shipments(info: Info, order: Order) -> list[Shipment]:
    loaders = await info.context.order_loaders()
    shipments: list[Shipment] = await loaders["order_shipments"].load(order.id)
    return shipments


async def order_timeline(info: Info, order: Order) -> list[TimelineStep]:
    loaders = await info.context.order_loaders()
    notes, shipments, signed = await asyncio.gather(
        loaders["notes"].load(order.id), order_shipments(info, order), loaders["order_signed"].load(order.id))
    return build_timeline(order, shipments, order_card(info, order).fulfilment, notes.status_changes, signed)


async def material_shipments(info: Info, material: Material) -> list[Shipment]:
    """Through its order when reached that way (the order's reads cover every material on the
    page); else the material's own reads."""
    loaders = await info.context.order_loaders()
    if not material.via_order:
        shipments: list[Shipment] = await loaders["material_shipments"].load(material.id)
        return shipments
    return await loaders.shipments_carrying(material)


async def shipment_carrier(info: Info, shipment: Shipment) -> str | None:
    """The carrier, from the delivery's ERP detail when neither its list row nor memory has it."""
    return (await _completed(info, shipment)).logistics_company if shipment.carrier_in_detail else shipment.logistics_company


async def shipment_files(info: Info, shipment: Shipment) -> list[Attachment]:
    """The attachments, from the delivery's ERP detail when its list row lacks them."""
    return list((await _completed(info, shipment)).attachments if shipment.files_in_detail else shipment.attachments)


async def _completed(info: Info, shipment: Shipment) -> Shipment:
    loaders = await info.context.order_loaders()
    completed: Shipment | None = await loaders["shipment_detail"].load(shipment.id)
    return completed or shipment


async def shipment_lines(info: Info, shipment: Shipment) -> list[ShipmentLine]:
    loaders = await info.context.order_loaders()
    return await loaders.lines_of(shipment)


OPENING_ROOTS = frozenset({"order", "shipment"})  # a purchaser opened the order or the shipment: not a list


def _root_field(info: Info) -> str | None:
    """The name of the root field this field was reached through (aliases resolved)."""
    path = info.path
    while path.prev is not None:
        path = path.prev
    for selection in info.operation.selection_set.selections:
        name = getattr(selection, "name", None)
        alias = getattr(selection, "alias", None)
        if name is not None and (alias.value if alias else name.value) == path.key:
            return str(name.value)
    return None


async def shipment_tracking(info: Info, shipment: Shipment) -> Tracking | None:
    """The parcel's track (None: not dispatched, or no tracking number). Opening an order or a
    shipment may cause the tracking service's real-time query; a list never does."""
    if ask_of(shipment, None, live=False) is None:
        return None
    loaders = await info.context.order_loaders()
    carrier = await shipment_carrier(info, shipment)
    ask = ask_of(shipment, carrier, live=_root_field(info) in OPENING_ROOTS)
    tracking: Tracking = await loaders["shipment_tracking"].load(ask)
    return tracking


async def order_tracking_state(info: Info, order: Order) -> TrackingState | None:
    loaders = await info.context.order_loaders()
    state: TrackingState | None = await loaders["order_tracking"].load(order.id)
    return state
