"""Plain dataclasses shared by every layer. Strawberry types in ``schema/`` mirror their fields."""

from __future__ import annotations

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


ROLE_PERMISSIONS: dict[Role, tuple[Permission, ...]] = {
    Role.PURCHASER: (Permission.ORDERS_READ, Permission.MESSAGES_READ),
    Role.ADMIN: (Permission.MESSAGES_READ, Permission.MESSAGES_SEND, Permission.MONITORING_READ),
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

    @property
    def permissions(self) -> list[Permission]:
        return self.binding.permissions if self.binding else []

    @property
    def customer_id(self) -> str | None:
        return self.binding.company.id if self.binding and self.binding.role is Role.PURCHASER else None


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


class ProgressStage(StrEnum):
    NOT_STARTED = "NOT_STARTED"
    PRODUCING = "PRODUCING"
    PRODUCED = "PRODUCED"
    PARTIALLY_SHIPPED = "PARTIALLY_SHIPPED"
    SHIPPED = "SHIPPED"


class DeliveryStatus(StrEnum):
    NONE = "NONE"
    PARTIAL = "PARTIAL"
    ALL = "ALL"


@dataclass(frozen=True)
class Progress:
    ordered: float
    producing: float
    produced: float
    unproduced: float
    shipping: float
    shipped: float
    returned: float

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
        if self.shipped > 0:
            return ProgressStage.PARTIALLY_SHIPPED
        if self.ordered > 0 and self.produced >= self.ordered:
            return ProgressStage.PRODUCED
        if self.produced > 0 or self.producing > 0:
            return ProgressStage.PRODUCING
        return ProgressStage.NOT_STARTED


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
    shipped_rate_by_quantity: float | None
    remark: str | None


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


@dataclass(frozen=True)
class Attachment:
    name: str
    url: str


@dataclass(frozen=True)
class Shipment:
    id: str
    code: str
    order_ids: tuple[str, ...]
    order_codes: tuple[str, ...]
    ship_date: datetime | None
    logistics_company: str | None
    tracking_number: str | None
    shipped: bool
    left_warehouse: bool
    address: str | None  # masked
    contact: str | None
    mobile: str | None  # masked
    attachments: tuple[Attachment, ...]
    via_order_id: str | None = None  # the order this shipment was reached through, if any
    via_material_id: str | None = None  # or the material


@dataclass(frozen=True)
class TimelineStep:
    kind: str  # ORDERED | PRODUCTION | PRODUCED | SHIPMENT | COMPLETED | CANCELLED
    title: str
    at: datetime | None
    done: bool
    current: bool = False
    duration_s: float | None = None  # since the previous step with a time
    detail: str | None = None
