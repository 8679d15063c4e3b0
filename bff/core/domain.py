"""Plain dataclasses shared by every layer. Strawberry types in ``schema/`` mirror their fields."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    PURCHASER = "purchaser"
    ADMIN = "admin"


class Permission(StrEnum):
    ORDERS_READ = "orders:read"
    MESSAGES_READ = "messages:read"
    MESSAGES_SEND = "messages:send"
    MONITORING_READ = "monitoring:read"
    USERS_MANAGE = "users:manage"


ROLE_PERMISSIONS: dict[Role, tuple[Permission, ...]] = {
    Role.PURCHASER: (Permission.ORDERS_READ, Permission.MESSAGES_READ),
    Role.ADMIN: (Permission.MESSAGES_READ, Permission.MESSAGES_SEND, Permission.MONITORING_READ, Permission.USERS_MANAGE),
}


@dataclass(frozen=True)
class Company:
    id: str | None
    name: str
    code: str | None = None
    abbr: str | None = None
    province: str | None = None
    city: str | None = None
    contact: str | None = None
    mobile: str | None = None  # masked before it leaves the BFF
    disabled: bool = False


@dataclass(frozen=True)
class Binding:
    binding_id: str
    company: Company
    role: Role
    method: str
    bound_at: datetime
    erp_username: str = ""
    invite_code_digest: str | None = None  # HMAC of the invite code it was made with

    @property
    def permissions(self) -> list[Permission]:
        return list(ROLE_PERMISSIONS[self.role])


@dataclass
class Viewer:
    """Who is asking: the authenticated WeChat user, their session and their binding."""

    openid: str
    session_id: str
    unionid: str | None
    expires_at: datetime
    nickname: str | None = None
    avatar_url: str | None = None
    binding: Binding | None = None
    login_source: str = "code"
    binding_ended: str | None = None  # why the binding ended on this request (company disabled, ...)

    @property
    def permissions(self) -> list[Permission]:
        return self.binding.permissions if self.binding else []

    @property
    def customer_id(self) -> str | None:
        return self.binding.company.id if self.binding and self.binding.role is Role.PURCHASER else None


@dataclass(frozen=True)
class CompanyUser:
    """One user bound to a company, as administrators see it (to revoke their access)."""

    binding_id: str
    openid: str
    nickname: str | None
    method: str
    bound_at: datetime
    active_sessions: int


@dataclass(frozen=True)
class LoginResult:
    token: str
    openid: str
    unionid: str | None
    expires_at: datetime
    viewer: Viewer = field(repr=False)


class OrderStatus(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    CANCELLED = "CANCELLED"
    UNKNOWN = "UNKNOWN"


# The one vocabulary of delivery (docs/delivery.md). To a purchaser only a dispatched delivery
# is shipped (已发货); goods that left the warehouse and wait for dispatch are 待发货.


def percent(ratio: float) -> str:
    """A share as a purchaser reads it, rounded down: 99.6 % is not yet 100 %."""
    return f"{math.floor(ratio * 100 + 1e-9)}%"


class ShipmentState(StrEnum):
    """One delivery: PACKED (a delivery order exists, 已出库 or not, 是否发货 false), DISPATCHED
    (是否发货 true), SIGNED (received: the ERP has no such field yet, so nothing maps to it)."""

    PACKED = "PACKED"
    DISPATCHED = "DISPATCHED"
    SIGNED = "SIGNED"


class ProgressStage(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    PRODUCING = "PRODUCING"
    PRODUCED = "PRODUCED"
    AWAITING_DISPATCH = "AWAITING_DISPATCH"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"


class DeliveryStatus(StrEnum):
    """One order: NONE (nothing dispatched nor packed), AWAITING_DISPATCH (goods packed, waiting
    for dispatch; some may be dispatched already), PARTIAL (part dispatched), ALL (all dispatched)."""

    NONE = "NONE"
    AWAITING_DISPATCH = "AWAITING_DISPATCH"
    PARTIAL = "PARTIAL"
    ALL = "ALL"


@dataclass(frozen=True)
class Progress:
    """Quantities of one material (its own unit). ``shipped`` counts dispatched goods only;
    ``awaiting_dispatch`` what left the warehouse in deliveries not yet dispatched."""

    ordered: float
    producing: float
    produced: float
    unproduced: float
    shipping: float
    shipped: float
    returned: float
    awaiting_dispatch: float = 0.0
    exact: bool = True  # False: ``shipped`` is a lower bound (docs/delivery.md)

    @property
    def produced_ratio(self) -> float:
        return min(1.0, self.produced / self.ordered) if self.ordered > 0 else 0.0

    @property
    def shipped_ratio(self) -> float:
        return min(1.0, self.shipped / self.ordered) if self.ordered > 0 else 0.0

    @property
    def stage(self) -> ProgressStage:
        if self.ordered > 0 and self.shipped >= self.ordered:
            return ProgressStage.SHIPPED
        if self.awaiting_dispatch > 0:
            return ProgressStage.AWAITING_DISPATCH
        if self.shipped > 0:
            return ProgressStage.PARTIALLY_SHIPPED
        if self.ordered > 0 and self.produced >= self.ordered:
            return ProgressStage.PRODUCED
        if self.produced > 0 or self.producing > 0:
            return ProgressStage.PRODUCING
        return ProgressStage.NOT_STARTED


class ShippingFilter(StrEnum):
    """The home list's 未发货 / 已逾期 filters, over the caller's open orders (未开始, 进行中):
    NOT_SHIPPED: nothing dispatched yet (the card says 未发货 or 待发货: packed goods are not shipped,
    docs/delivery.md); OVERDUE: the card's ``overdue`` (delivery date passed, not all dispatched)."""

    NOT_SHIPPED = "NOT_SHIPPED"
    OVERDUE = "OVERDUE"


@dataclass(frozen=True)
class Order:
    id: str
    code: str
    customer_id: str
    customer_name: str | None
    customer_order_code: str | None
    date: datetime | None
    delivery_date: datetime | None
    status: OrderStatus
    status_code: int
    status_name: str
    amount: float | None
    rmb_amount: float | None
    currency: str | None
    quantity: float | None
    produced_rate: float | None
    remark: str | None
    # The order row's shippedRate as the ERP sends it (a guess: bff/erp/guesses.py ``order_rates``);
    # never shown (cards show the dispatched share by value, from the lines and the deliveries).
    row_shipped_rate: float | None = None


@dataclass(frozen=True)
class Material:
    """One order line."""

    id: str
    order_id: str
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
    via_order: bool = False  # reached through its order: its shipments come with the order's


@dataclass(frozen=True)
class ShipmentLine:
    id: str
    shipment_id: str
    order_id: str | None
    material_id: str | None
    product_code: str | None
    name: str | None
    spec: str | None
    brand: str | None
    quantity: float
    batch: str | None

    def carries(self, material: Material) -> bool:
        """Whether this line ships ``material``: by the line's link when it has one (the ERP's
        delivery lines may not), else by product code and spec within the material's order."""
        if self.material_id is not None:
            return self.material_id == material.id
        if self.order_id is not None and self.order_id != material.order_id:
            return False
        return self.product_code is not None and self.product_code == material.product_code and (
            self.spec is None or material.spec is None or self.spec == material.spec
        )


@dataclass(frozen=True)
class Attachment:
    name: str  # decoded; an unnamed file is "附件<n>" (its extension, if any, from the path)
    url: str
    size: int | None = None  # bytes, as the ERP declares them


@dataclass(frozen=True)
class Shipment:
    id: str
    code: str
    order_ids: tuple[str, ...]
    order_codes: tuple[str, ...]
    ship_date: datetime | None
    logistics_company: str | None
    tracking_number: str | None
    remark: str | None  # what the wholesaler wrote: in practice the actual carrier and route
    shipped: bool  # dispatched (是否发货)
    left_warehouse: bool  # 已出库
    address: str | None  # masked
    contact: str | None
    mobile: str | None  # masked
    attachments: tuple[Attachment, ...]
    amount: float | None = None
    via_order_id: str | None = None  # the order this shipment was reached through, if any
    via_material_id: str | None = None  # or the material
    # What the list row lacked and the delivery's detail has (bff/orders/details.py):
    carrier_in_detail: bool = False  # on its way, carrier not known otherwise
    files_in_detail: bool = False  # the attachments
    # The last four digits of the contact's phone: only ever sent to the tracking service, for
    # carriers that answer only with them (顺丰); never exposed (docs/privacy.md).
    phone_tail: str | None = field(default=None, repr=False)

    @property
    def state(self) -> ShipmentState:
        return ShipmentState.DISPATCHED if self.shipped else ShipmentState.PACKED


class TrackingState(StrEnum):
    """A parcel's track (docs/tracking.md): UNSUPPORTED when its carrier is not followed
    (a freight line, an unknown name: 暂不支持自动查询), UNKNOWN when no track is known yet."""

    IN_TRANSIT = "IN_TRANSIT"
    OUT_FOR_DELIVERY = "OUT_FOR_DELIVERY"
    SIGNED = "SIGNED"
    PROBLEM = "PROBLEM"
    RETURNED = "RETURNED"
    UNSUPPORTED = "UNSUPPORTED"
    UNKNOWN = "UNKNOWN"


@dataclass(frozen=True)
class TrackEvent:
    time: datetime | None
    text: str
    location: str | None = None


@dataclass(frozen=True)
class Tracking:
    """One shipment's parcel track, newest event first."""

    state: TrackingState
    updated_at: datetime | None  # when the BFF last learnt of it (a push or a query)
    events: tuple[TrackEvent, ...] = ()
    carrier: str | None = None  # the carrier as followed (顺丰速运), or the ERP's name


@dataclass(frozen=True)
class Fulfilment:
    """One order's progress as the purchaser sees it, by value (line amounts), so produced and
    shipped share one unit across materials of different units (docs/delivery.md)."""

    produced_rate: float
    shipped_rate: float  # dispatched
    awaiting_dispatch_rate: float
    status: DeliveryStatus
    exact: bool  # False: a lower bound of the dispatched share (see docs/delivery.md)

    @property
    def label(self) -> str:
        """What a card says of the delivery, in the purchaser's words."""
        shipped = f"已发货 {percent(self.shipped_rate)}"
        return {
            DeliveryStatus.NONE: "未发货",
            DeliveryStatus.AWAITING_DISPATCH: "待发货" if self.shipped_rate <= 0 else f"{shipped} · 另有待发货",
            DeliveryStatus.PARTIAL: shipped,
            DeliveryStatus.ALL: "已全部发货",
        }[self.status]


@dataclass(frozen=True)
class TimelineStep:
    kind: str  # ORDERED | PRODUCTION | STATUS_CHANGE | SHIPMENT | AWAITING_SHIPMENT | COMPLETED | CANCELLED
    title: str
    at: datetime | None
    done: bool
    current: bool = False
    duration_s: float | None = None  # since the previous step with a time
    detail: str | None = None
    in_progress: bool = False  # under way, not the current step (production while a delivery waits)
