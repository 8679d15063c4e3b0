"""The ERP's form ids, datasource ids and sales-order status codes: its vocabulary in one place."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum

CUSTOMERS = 100004  # 客户
SALES_ORDERS = 100001  # 销售订单
ORDER_LINES = 100185  # 销售订单产品, condition {"form.id": <order id>}
DELIVERIES = 100039  # 销售出库单 (one shipment)
DELIVERY_LINES = 100041  # 出库单明细, condition {"parent.id": <delivery id>}, isColumnForm


@dataclass(frozen=True)
class Datasource:
    """A datasource is addressed by the form and column that own it, not by its id alone."""

    form_id: int
    datasource_id: int
    col_id: int


LOGISTICS = Datasource(form_id=DELIVERIES, datasource_id=100292, col_id=110673)  # 物流公司


class OrderStatusCode(IntEnum):
    """Sales-order status codes seen so far; others may exist and must not crash a read."""

    NOT_STARTED = 1  # 未开始
    IN_PROGRESS = 2  # 进行中
    COMPLETED = 4  # 已完成
    CANCELLED = 5  # 已取消


ORDER_STATUS_NAMES: dict[int, str] = {
    OrderStatusCode.NOT_STARTED: "未开始",
    OrderStatusCode.IN_PROGRESS: "进行中",
    OrderStatusCode.COMPLETED: "已完成",
    OrderStatusCode.CANCELLED: "已取消",
}
