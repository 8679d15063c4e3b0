"""Order, Material, Progress, Shipment and Timeline types, and the order queries."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry

from bff import domain
from resolvers import orders as resolve
from resolvers.context import Info


@strawberry.enum(description="Sales order status; values the ERP does not document map to UNKNOWN")
class OrderStatus(Enum):
    NOT_STARTED = domain.OrderStatus.NOT_STARTED.value
    IN_PROGRESS = domain.OrderStatus.IN_PROGRESS.value
    COMPLETED = domain.OrderStatus.COMPLETED.value
    CANCELLED = domain.OrderStatus.CANCELLED.value
    UNKNOWN = domain.OrderStatus.UNKNOWN.value


@strawberry.enum
class ProgressStage(Enum):
    NOT_STARTED = domain.ProgressStage.NOT_STARTED.value
    PRODUCING = domain.ProgressStage.PRODUCING.value
    PRODUCED = domain.ProgressStage.PRODUCED.value
    PARTIALLY_SHIPPED = domain.ProgressStage.PARTIALLY_SHIPPED.value
    SHIPPED = domain.ProgressStage.SHIPPED.value


@strawberry.enum
class DeliveryStatus(Enum):
    NONE = domain.DeliveryStatus.NONE.value
    PARTIAL = domain.DeliveryStatus.PARTIAL.value
    ALL = domain.DeliveryStatus.ALL.value


@strawberry.type(description="Production and shipping progress of one material (or a whole order)")
class Progress:
    ordered: float
    producing: float
    produced: float
    unproduced: float
    shipping: float
    shipped: float
    returned: float
    produced_ratio: float
    shipped_ratio: float
    stage: ProgressStage


@strawberry.type
class Attachment:
    name: str
    url: str = strawberry.field(description="Served by the BFF with the ERP session; send the bearer token")


@strawberry.type
class ShipmentLine:
    id: strawberry.ID
    product_code: str | None
    name: str | None
    spec: str | None
    brand: str | None
    quantity: float
    batch: str | None
    material_id: strawberry.ID | None
    order_id: strawberry.ID | None


@strawberry.type(description="One delivery (销售出库单); it may carry several orders")
class Shipment:
    id: strawberry.ID
    code: str
    order_codes: list[str]
    ship_date: datetime | None
    logistics_company: str | None
    tracking_number: str | None
    shipped: bool
    left_warehouse: bool
    address: str | None = strawberry.field(description="Masked")
    contact: str | None
    mobile: str | None = strawberry.field(description="Masked")
    attachments: list[Attachment]

    @strawberry.field(
        description="The lines of this shipment for the order it was reached through "
        "(a shipment may carry several orders: see orderCodes)"
    )
    async def lines(self, info: Info) -> list[ShipmentLine]:
        return await resolve.shipment_lines(info, self)  # type: ignore[arg-type, return-value]


@strawberry.type
class Material:
    id: strawberry.ID
    order_id: strawberry.ID
    order_code: str | None
    product_code: str | None
    name: str | None
    spec: str | None
    brand: str | None
    image: str | None
    quantity: float
    unit: str | None
    price: float | None
    amount: float | None
    delivery_date: datetime | None
    progress: Progress

    @strawberry.field(description="The shipments that carried this material")
    async def shipments(self, info: Info) -> list[Shipment]:
        return await resolve.material_shipments(info, self)  # type: ignore[arg-type, return-value]


@strawberry.type
class TimelineStep:
    kind: str
    title: str
    at: datetime | None
    done: bool
    current: bool
    duration_s: float | None = strawberry.field(description="Seconds since the previous step with a time")
    detail: str | None


@strawberry.type
class Order:
    id: strawberry.ID
    code: str
    customer_name: str | None
    customer_order_code: str | None
    date: datetime | None
    delivery_date: datetime | None
    status: OrderStatus
    status_code: int = strawberry.field(description="The ERP's raw status value")
    status_name: str
    amount: float | None
    rmb_amount: float | None
    currency: str | None
    quantity: float | None
    remark: str | None

    @strawberry.field
    async def materials(self, info: Info) -> list[Material]:
        return await resolve.order_materials(info, self)  # type: ignore[arg-type, return-value]

    @strawberry.field(description="Whole-order progress: the sum of its materials")
    async def progress(self, info: Info) -> Progress:
        return await resolve.order_progress(info, self)  # type: ignore[arg-type, return-value]

    @strawberry.field
    async def shipments(self, info: Info) -> list[Shipment]:
        return await resolve.order_shipments(info, self)  # type: ignore[arg-type, return-value]

    @strawberry.field(description="NONE, PARTIAL or ALL of the ordered quantity shipped")
    async def delivery_status(self, info: Info) -> DeliveryStatus:
        return await resolve.order_delivery_status(info, self)  # type: ignore[arg-type, return-value]

    @strawberry.field(description="Value shipped ÷ order value, 0..1")
    async def shipped_rate(self, info: Info) -> float:
        return await resolve.order_shipped_rate(info, self)  # type: ignore[arg-type]

    @strawberry.field
    async def timeline(self, info: Info) -> list[TimelineStep]:
        return await resolve.order_timeline(info, self)  # type: ignore[arg-type, return-value]


@strawberry.type
class OrderPage:
    items: list[Order]
    total: int
    page: int
    page_size: int
    query_time: datetime
    cache_hit: bool = strawberry.field(description="True only when the ERP failed and kept data is shown")
    stale: bool
    as_of: datetime = strawberry.field(description="When the data shown was read from the ERP")


@strawberry.type
class OrderQuery:
    @strawberry.field(description="The caller's company's orders, live from the ERP")
    async def orders(
        self,
        info: Info,
        keyword: str | None = None,
        status: OrderStatus | None = None,
        page: int = 1,
        page_size: int = 20,
    ) -> OrderPage:
        status_value = domain.OrderStatus(status.value) if status else None
        return await resolve.search_orders(info, keyword, status_value, page, page_size)  # type: ignore[return-value]

    @strawberry.field(description="One order of the caller's company, by id or by order number")
    async def order(self, info: Info, id: strawberry.ID | None = None, code: str | None = None) -> Order:
        return await resolve.order(info, id, code)  # type: ignore[return-value]

    @strawberry.field(description="One material (order line) of the caller's company")
    async def material(self, info: Info, id: strawberry.ID) -> Material:
        return await resolve.material(info, id)  # type: ignore[return-value]
