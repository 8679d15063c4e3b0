"""Order, Material, Progress, Shipment and Timeline types, and the order queries."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry import Parent

from bff.core import domain
from resolvers import orders as resolve
from resolvers.context import Info

# Field resolvers are handed the domain object strawberry resolved the type from (``Parent``) and
# return domain objects, typed as such; ``graphql_type`` names the strawberry type that exposes
# them. tests/test_schema_mirror.py checks each strawberry type against its domain dataclass.

# The domain's enums, exposed as they are (no copies to keep in step).
OrderStatus = Annotated[domain.OrderStatus, strawberry.enum(
    name="OrderStatus", description="Sales order status; values the ERP does not document map to UNKNOWN")]
ProgressStage = Annotated[domain.ProgressStage, strawberry.enum(name="ProgressStage")]
DeliveryStatus = Annotated[domain.DeliveryStatus, strawberry.enum(
    name="DeliveryStatus", description="An order's delivery (docs/delivery.md): only dispatched goods count as shipped")]
TrackingState = Annotated[domain.TrackingState, strawberry.enum(
    name="TrackingState", description="A parcel's track (docs/tracking.md): UNSUPPORTED: 暂不支持自动查询 "
    "(a carrier the tracking service does not follow for us); UNKNOWN: no track known yet")]
ShippingFilter = Annotated[domain.ShippingFilter, strawberry.enum(
    name="ShippingFilter", description="The home list's 未发货 / 已逾期 filters, over open orders (未开始, 进行中): "
    "NOT_SHIPPED: nothing dispatched yet (cards saying 未发货 or 待发货); OVERDUE: the card's overdue")]
ShipmentState = Annotated[domain.ShipmentState, strawberry.enum(
    name="ShipmentState", description="One delivery: PACKED (not dispatched), DISPATCHED (是否发货), SIGNED (received)")]


@strawberry.type(description="Production and shipping progress of one material, by quantity in its unit "
                 "(an order's sums quantities across units: show the order's rates by value instead)")
class Progress:
    ordered: float
    producing: float
    produced: float
    unproduced: float
    shipping: float
    shipped: float = strawberry.field(description="Dispatched quantity (是否发货): what a purchaser calls shipped")
    returned: float
    awaiting_dispatch: float = strawberry.field(description="Left the warehouse in deliveries not yet dispatched")
    exact: bool = strawberry.field(description="False: shipped is a lower bound (a packed delivery's contents unknown)")
    produced_ratio: float
    shipped_ratio: float = strawberry.field(description="Dispatched ÷ ordered, 0..1")
    stage: ProgressStage


@strawberry.type
class Attachment:
    name: str = strawberry.field(description="The file name, decoded (an unnamed file: 附件<n>, its type known on download)")
    url: str = strawberry.field(description="Served by the BFF with the ERP session; send the bearer token")
    size: int | None = strawberry.field(description="Bytes, as the ERP declares them (null: not declared)")


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


@strawberry.type
class TrackEvent:
    time: datetime | None
    text: str
    location: str | None


@strawberry.type(description="A parcel's track from the tracking service, newest event first")
class Tracking:
    state: TrackingState
    updated_at: datetime | None = strawberry.field(description="When the BFF last learnt of the track (push or query)")
    events: list[TrackEvent]
    carrier: str | None = strawberry.field(description="The carrier as the ERP names it")


@strawberry.type(description="One delivery (销售出库单); it may carry several orders")
class Shipment:
    id: strawberry.ID
    code: str
    order_codes: list[str]
    ship_date: datetime | None
    tracking_number: str | None
    remark: str | None = strawberry.field(description="What the wholesaler wrote on the shipment (in practice the actual carrier and route)")
    state: ShipmentState
    shipped: bool = strawberry.field(description="Dispatched (是否发货)")
    left_warehouse: bool = strawberry.field(description="Left the warehouse (已出库); not yet shipped unless dispatched")
    address: str | None = strawberry.field(description="Masked")
    contact: str | None
    mobile: str | None = strawberry.field(description="Masked")
    amount: float | None

    @strawberry.field(description="The carrier (物流公司), from the delivery's detail where its list row lacks it")
    async def logistics_company(self, info: Info, shipment: Parent[domain.Shipment]) -> str | None:
        return await resolve.shipment_carrier(info, shipment)

    @strawberry.field(graphql_type=list[Attachment], description="Files of the delivery (发货单, photos)")
    async def attachments(self, info: Info, shipment: Parent[domain.Shipment]) -> list[domain.Attachment]:
        return await resolve.shipment_files(info, shipment)

    @strawberry.field(
        description="The lines of this shipment for the order it was reached through "
        "(a shipment may carry several orders: see orderCodes)",
        graphql_type=list[ShipmentLine],
    )
    async def lines(self, info: Info, shipment: Parent[domain.Shipment]) -> list[domain.ShipmentLine]:
        return await resolve.shipment_lines(info, shipment)

    @strawberry.field(
        description="The parcel's track (null: not dispatched, or no tracking number). Opening one order or "
        "shipment may ask the tracking service when the track is missing or stale; lists show what is stored",
        graphql_type=Tracking | None,
    )
    async def tracking(self, info: Info, shipment: Parent[domain.Shipment]) -> domain.Tracking | None:
        return await resolve.shipment_tracking(info, shipment)


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

    @strawberry.field(description="The shipments that carried this material", graphql_type=list[Shipment])
    async def shipments(self, info: Info, material: Parent[domain.Material]) -> list[domain.Shipment]:
        return await resolve.material_shipments(info, material)


@strawberry.type
class TimelineStep:
    kind: str
    title: str
    at: datetime | None
    done: bool
    current: bool
    duration_s: float | None = strawberry.field(description="Seconds since the previous step with a time")
    detail: str | None
    in_progress: bool = strawberry.field(
        description="Under way but not the current step (生产中 54 % while a packed delivery waits): not a step to come")


T = TypeVar("T")


def _fulfilment_field(pick: Callable[[domain.Fulfilment], T], description: str) -> Any:
    """A card fact of the order's fulfilment, from the card its root field loaded
    (``resolvers.orders.order_card``). Its GraphQL type is the annotation."""

    def resolver(info: Info, order: Parent[domain.Order]) -> T:
        return pick(resolve.order_card(info, order).fulfilment)

    return strawberry.field(resolver=resolver, description=description)


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

    @strawberry.field(graphql_type=list[Material])
    async def materials(self, info: Info, order: Parent[domain.Order]) -> list[domain.Material]:
        return await resolve.order_materials(info, order)

    @strawberry.field(description="Whole-order progress: the sum of its materials", graphql_type=Progress)
    async def progress(self, info: Info, order: Parent[domain.Order]) -> domain.Progress:
        return await resolve.order_progress(info, order)

    @strawberry.field(graphql_type=list[Shipment])
    async def shipments(self, info: Info, order: Parent[domain.Order]) -> list[domain.Shipment]:
        return await resolve.order_shipments(info, order)

    delivery_status: DeliveryStatus = _fulfilment_field(
        lambda f: f.status, "NONE, AWAITING_DISPATCH (packed, not dispatched), PARTIAL or ALL dispatched")
    shipped_rate: float = _fulfilment_field(
        lambda f: f.shipped_rate, "Dispatched value ÷ order value, 0..1 (by value, like producedRate)")
    delivery_text: str = _fulfilment_field(
        lambda f: f.label, "What the card says: 未发货, 待发货, 已发货 52%, 已全部发货 (by value)")
    produced_rate: float = _fulfilment_field(
        lambda f: f.produced_rate, "Produced value ÷ order value, 0..1 (by value: comparable with shippedRate)")
    awaiting_dispatch_rate: float = _fulfilment_field(
        lambda f: f.awaiting_dispatch_rate, "Value left the warehouse in deliveries not yet dispatched ÷ order value, 0..1")
    progress_exact: bool = _fulfilment_field(
        lambda f: f.exact, "False when shippedRate is a lower bound (a packed delivery of several orders)")

    @strawberry.field(description="The delivery date has passed and not everything is dispatched")
    def overdue(self, info: Info, order: Parent[domain.Order]) -> bool:
        return resolve.order_overdue(info, order)

    @strawberry.field(description="The first material and how many there are: 内六角圆柱头螺钉 M10×40 等 6 项")
    def material_summary(self, info: Info, order: Parent[domain.Order]) -> str | None:
        return resolve.order_material_summary(info, order)

    @strawberry.field(description="The parcel state of the order's newest dispatched shipment with a tracking number, "
                      "as stored: the card's 运输中 / 派送中 / 已签收 / 运输异常 / 已退回 (null: no moving track)")
    async def tracking_state(self, info: Info, order: Parent[domain.Order]) -> TrackingState | None:
        return await resolve.order_tracking_state(info, order)

    @strawberry.field(description="Whether the caller follows this order (followOrder); see NotificationSettings.followAll")
    async def followed(self, info: Info, order: Parent[domain.Order]) -> bool:
        return await resolve.order_followed(info, order)

    @strawberry.field(graphql_type=list[TimelineStep])
    async def timeline(self, info: Info, order: Parent[domain.Order]) -> list[domain.TimelineStep]:
        return await resolve.order_timeline(info, order)


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
    @strawberry.field(description="The caller's company's orders, live from the ERP", graphql_type=OrderPage)
    async def orders(
        self,
        info: Info,
        keyword: str | None = None,
        status: OrderStatus | None = None,
        page: int = 1,
        page_size: int = 20,
        shipping: Annotated[ShippingFilter | None, strawberry.argument(
            description="Only open orders not shipped yet, or overdue (combines with keyword and status)")] = None,
    ) -> resolve.OrderPage:
        return await resolve.search_orders(info, keyword, status, page, page_size, shipping)

    @strawberry.field(description="One order of the caller's company, by id or by order number", graphql_type=Order)
    async def order(self, info: Info, id: strawberry.ID | None = None, code: str | None = None) -> domain.Order:
        return await resolve.order(info, id, code)

    @strawberry.field(description="One material (order line) of the caller's company", graphql_type=Material)
    async def material(self, info: Info, id: strawberry.ID) -> domain.Material:
        return await resolve.material(info, id)

    @strawberry.field(
        description="One shipment (delivery) of the caller's company, by id: what it carries costs one more ERP read",
        graphql_type=Shipment,
    )
    async def shipment(self, info: Info, id: strawberry.ID) -> domain.Shipment:
        return await resolve.shipment(info, id)
