"""Every list read the BFF makes, as data: form, context, filters, columns, page, record model;
and the ERP's vocabulary they are written in (form ids, datasources, status codes).

The one place for call shapes. Each builder says where its shape comes from: *evidence*
(the public client of the live ERP, or its documented answer; see the reference and
docs/erp-protocol.md) or *guess*. ``bff erp check`` replays these exact shapes against the
live service, so a guess that fails shows up there first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, Generic, TypeVar

from bff.erp.models import (
    CustomerRecord,
    DeliveryLineRecord,
    DeliveryRecord,
    ErpRecord,
    LogisticsCompanyRecord,
    OrderLineRecord,
    SalesOrderRecord,
)

# --- The ERP's form ids, datasource ids and sales-order status codes: its vocabulary in one place. ---

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


R = TypeVar("R", bound=ErpRecord)

# Evidence: the public client asked for 5000 and 10000 rows; no maximum is known. The BFF
# asks for less: a page of one customer's rows should never need more, and memory is bounded.
MAX_ROWS = 1000
SEARCH_SCOPE_ORDERS = 2000  # a keyword search looks at the customer's latest orders only
LINE_COLUMNS_FOR_MATCH = ("id", "salesOrderId")
ORDER_COLUMNS_FOR_MATCH = ("id", "customerId")
DELIVERY_COLUMNS = (
    "id", "code", "orderCodes", "salesOrderId", "salesOrderIds", "salesOrderCode", "date",
    "customerOrSupplierId", "finished", "amount", "rmbAmount", "contact", "tel", "mobile", "address", "remark", "logisticsCode",
    "logisticsCompanyId", "attachments", "发货日期", "已出库", "是否发货",
)
NEWEST_FIRST = "date desc"


@dataclass(frozen=True)
class ListRead(Generic[R]):
    """One getBusinessPageList call and the record model of its rows."""

    form_id: int
    model: type[R]
    condition: dict[str, Any] = field(default_factory=dict)
    filters: dict[str, Any] = field(default_factory=dict)
    columns: tuple[str, ...] = ()
    page: int = 0  # evidence: pages count from 0
    page_size: int = 50
    orderby: str = ""
    column_form: bool = False  # evidence: 100041 is read with isColumnForm: true


@dataclass(frozen=True)
class DatasourceRead(Generic[R]):
    source: Datasource
    model: type[R]
    page_size: int = 500


# --- customers (100004) ------------------------------------------------------------------

def customers_where(field_name: str, value: str) -> ListRead[CustomerRecord]:
    """Evidence: filters by a field's value; two rows, so an ambiguous value is noticed."""
    return ListRead(CUSTOMERS, CustomerRecord, filters={field_name: value}, page_size=2)


def customers_sample(rows: int) -> ListRead[CustomerRecord]:
    """A first page of customers (``bff erp check`` reads which fields they carry)."""
    return ListRead(CUSTOMERS, CustomerRecord, page_size=rows)


# --- sales orders (100001): always filtered by the customer --------------------------------

def orders_of_customer(
    customer_id: str,
    *,
    ids: Sequence[str] | None = None,
    codes: Sequence[str] | None = None,
    statuses: Sequence[int] | None = None,
    keyword: str | None = None,
    columns: Sequence[str] = (),
    page: int = 0,
    page_size: int = 50,
    orderby: str = NEWEST_FIRST,
) -> ListRead[SalesOrderRecord]:
    """Evidence: ``customerId`` filter (``{"customerId": "36"}``), lists of values meaning "any of"
    (``{"status": [1, 2, 4, 5]}``, ``{"id": [...]}``), ``systemFulltext`` over the order's text
    fields. Guess: ``code`` as a list filter like ``id``."""
    filters: dict[str, Any] = {"customerId": customer_id}
    if ids is not None:
        filters["id"] = sorted(set(ids))
    if codes is not None:
        filters["code"] = sorted(set(codes))
    if statuses is not None:
        filters["status"] = sorted(set(statuses))
    if keyword:
        filters["systemFulltext"] = keyword
    return ListRead(
        SALES_ORDERS, SalesOrderRecord, filters=filters, columns=tuple(columns),
        page=page, page_size=page_size, orderby=orderby,
    )


# The change watcher's batched read (bff/notify/watcher.py): many customers' open orders in one
# paged read, only the columns its digest compares. Guess: ``customerId`` takes a list like
# ``id`` and ``status`` do (evidence for those two); ``bff erp check`` compares the list read
# with one read per customer. No modification-time field is evidenced on 100001, so the
# digest is the status, the rates and the totals, which the ERP derives from the lines
# (``bff erp check`` tests that derivation: production and shipping move the rates).
WATCH_COLUMNS = (
    "id", "code", "customerId", "date", "status", "amount", "quantity", "deliveryDate",
    "producedRate", "producingRate", "shippedRate", "shippingRate", "stockOutRate",
)
CUSTOMERS_PER_READ = 200  # default customer ids per list filter (BFF_WATCH_CUSTOMERS_PER_READ)
ORDERS_PER_DETAIL_READ = 100  # orders whose lines (or whose lines' deliveries) one read asks for


def orders_of_customers(
    customer_ids: Sequence[str],
    *,
    ids: Sequence[str] | None = None,
    statuses: Sequence[int] | None = None,
    columns: Sequence[str] = WATCH_COLUMNS,
    page: int = 0,
    page_size: int = MAX_ROWS,
) -> ListRead[SalesOrderRecord]:
    """Guess: ``customerId`` as a list filter ("any of these customers"), one read for many
    customers; one customer is asked the evidenced way (a single value), which is what
    ``BFF_WATCH_CUSTOMERS_PER_READ=1`` falls back to. Callers keep only rows of the customers
    they asked for (never trust the filter)."""
    customers = sorted(set(customer_ids))
    filters: dict[str, Any] = {"customerId": customers if len(customers) != 1 else customers[0]}
    if ids is not None:
        filters["id"] = sorted(set(ids))
    if statuses is not None:
        filters["status"] = sorted(set(statuses))
    return ListRead(
        SALES_ORDERS, SalesOrderRecord, filters=filters, columns=tuple(columns),
        page=page, page_size=page_size, orderby="id asc",  # a stable order across pages
    )


ORDERS_PER_CODE = 20  # rows of one order-number search: a full-text match can hit other orders


def order_by_code_text(customer_id: str, code: str) -> ListRead[SalesOrderRecord]:
    """Evidence: the public client found one order with ``filters {"systemFulltext": <code>}``; the
    BFF scopes it by the customer too and keeps only the row whose ``code`` equals the number."""
    return ListRead(
        SALES_ORDERS, SalesOrderRecord, filters={"customerId": customer_id, "systemFulltext": code},
        page_size=ORDERS_PER_CODE, orderby=NEWEST_FIRST,
    )


def probe() -> ListRead[SalesOrderRecord]:
    """The health probe: one row, few columns, no customer (it reads no customer's data)."""
    return ListRead(SALES_ORDERS, SalesOrderRecord, columns=("id", "code", "customerId", "status"), page_size=1)


# --- order lines (100185) -------------------------------------------------------------------

def lines_of_orders(order_ids: Sequence[str], *, keyword: str | None = None, columns: Sequence[str] = ()) -> ListRead[OrderLineRecord]:
    """Guess: ``salesOrderId`` (a field of the form) as a list filter, so one read serves many
    orders; the evidenced shape is ``condition {"form.id": <order id>}``, one order per read."""
    filters: dict[str, Any] = {"salesOrderId": sorted(set(order_ids))}
    if keyword:
        filters["systemFulltext"] = keyword
    return ListRead(ORDER_LINES, OrderLineRecord, filters=filters, columns=tuple(columns), page_size=MAX_ROWS)


def lines_of_order(order_id: str) -> ListRead[OrderLineRecord]:
    """Evidence: ``condition {"form.id": <order id>}``, one order per read (``bff erp check``
    compares it with :func:`lines_of_orders`)."""
    return ListRead(ORDER_LINES, OrderLineRecord, condition={"form.id": order_id}, page_size=MAX_ROWS)


def lines_matching(keyword: str, columns: Sequence[str] = LINE_COLUMNS_FOR_MATCH) -> ListRead[OrderLineRecord]:
    """Evidence: ``systemFulltext`` is the keyword search of every form. Not scoped (the form has
    no customer field): callers keep only lines of orders proven the customer's."""
    return ListRead(ORDER_LINES, OrderLineRecord, filters={"systemFulltext": keyword}, columns=tuple(columns),
                    page_size=MAX_ROWS, orderby="id desc")


def lines_by_ids(ids: Sequence[str]) -> ListRead[OrderLineRecord]:
    """Evidence: ``{"id": [...]}`` filters. Not scoped: callers prove ownership by the order."""
    return ListRead(ORDER_LINES, OrderLineRecord, filters={"id": sorted(set(ids))}, page_size=max(1, len(set(ids))))


# --- deliveries (100039) --------------------------------------------------------------------

# The customer's newest deliveries, read once per page (in the first round trip, beside the
# orders): the deliveries of every order dated after the oldest of them are all there, whatever
# the customer's history. Older orders' deliveries are read per order (:func:`deliveries_of_order`).
DELIVERY_WINDOW = 100
FILTER_DELIVERY_WINDOW = MAX_ROWS  # a 未发货/已逾期 page: every open order's deliveries in one read, mostly
DELIVERIES_PER_ORDER = 100  # evidence: the public client's pageSize for one order's deliveries


def recent_deliveries(customer_id: str, rows: int = DELIVERY_WINDOW) -> ListRead[DeliveryRecord]:
    """Evidence: the public client read a customer's deliveries with ``filters
    {"customerOrSupplierId": <id>}`` (pageSize 5000) and matched them to orders by ``orderCodes``.
    The BFF reads the newest ``rows`` only: its bytes do not grow with the customer's history."""
    return ListRead(
        DELIVERIES, DeliveryRecord, filters={"customerOrSupplierId": customer_id},
        columns=DELIVERY_COLUMNS, page_size=rows, orderby=NEWEST_FIRST,
    )


def deliveries_of_order(customer_id: str, order_code: str) -> ListRead[DeliveryRecord]:
    """Evidence: the public client read one order's deliveries with ``filters {"systemFulltext":
    <order code>}``, pageSize 100; scoped by the customer here, and matched by ``orderCodes``."""
    return ListRead(
        DELIVERIES, DeliveryRecord, filters={"customerOrSupplierId": customer_id, "systemFulltext": order_code},
        columns=DELIVERY_COLUMNS, page_size=DELIVERIES_PER_ORDER, orderby=NEWEST_FIRST,
    )


DELIVERY_COLUMNS_FOR_MATCH = ("id", "customerOrSupplierId", "salesOrderId", "salesOrderIds", "orderCodes")
DELIVERIES_MATCHED = 100  # a number names one delivery; a prefix (XSCK202611) its latest hundred


def deliveries_matching(customer_id: str, number: str) -> ListRead[DeliveryRecord]:
    """The customer's deliveries whose text holds ``number`` (a delivery-note number XSCK…, a
    tracking number): the evidenced shape of :func:`deliveries_of_order` (``systemFulltext``
    scoped by ``customerOrSupplierId``), only the columns that lead to the orders."""
    return ListRead(
        DELIVERIES, DeliveryRecord, filters={"customerOrSupplierId": customer_id, "systemFulltext": number},
        columns=DELIVERY_COLUMNS_FOR_MATCH, page_size=DELIVERIES_MATCHED, orderby=NEWEST_FIRST,
    )


def deliveries_carrying(customer_id: str, order_line_ids: Sequence[str]) -> ListRead[DeliveryRecord]:
    """Guess (``product_ids``, bff/erp/guesses.py): the customer's deliveries that carry any of
    these order lines, with ``condition {"salesOrderProductIds": [<order line ids>]}``. The public
    client only ever sent that key as ``None`` ("all"); an ERP that ignores it answers every
    delivery of the customer, which callers detect by the deliveries' own order links."""
    return ListRead(
        DELIVERIES, DeliveryRecord,
        condition={"salesOrderProductIds": sorted(set(order_line_ids))},
        filters={"customerOrSupplierId": customer_id},
        columns=DELIVERY_COLUMNS, page_size=MAX_ROWS, orderby=NEWEST_FIRST,
    )


def deliveries_by_ids(customer_id: str, ids: Sequence[str]) -> ListRead[DeliveryRecord]:
    """Evidence: ``{"id": [...]}`` filters and the ``customerOrSupplierId`` field."""
    return ListRead(
        DELIVERIES, DeliveryRecord, filters={"id": sorted(set(ids)), "customerOrSupplierId": customer_id},
        columns=DELIVERY_COLUMNS, page_size=max(1, len(set(ids))),
    )


# --- delivery lines (100041) ------------------------------------------------------------------

# Evidence: the public client's exact context for one delivery's lines (the extra keys are the
# form's own context; the live ERP answered product lines).
DELIVERY_LINE_CONTEXT: dict[str, Any] = {"exchangeRate": 1, "category": 1, "salesOrderId": ""}


def lines_of_delivery(delivery_id: str) -> ListRead[DeliveryLineRecord]:
    """Evidence: ``condition {"parent.id": <delivery id>, ...}`` with ``isColumnForm: true``."""
    return ListRead(
        DELIVERY_LINES, DeliveryLineRecord, condition={"parent.id": delivery_id, **DELIVERY_LINE_CONTEXT},
        page_size=MAX_ROWS, column_form=True,
    )


def lines_of_deliveries(delivery_ids: Sequence[str]) -> ListRead[DeliveryLineRecord]:
    """Guess: ``parent.id`` given a list of deliveries. Usable only when rows say their parent
    (``parentId``); the reader falls back to :func:`lines_of_delivery` otherwise."""
    return ListRead(
        DELIVERY_LINES, DeliveryLineRecord,
        condition={"parent.id": sorted(set(delivery_ids)), **DELIVERY_LINE_CONTEXT},
        page_size=MAX_ROWS, column_form=True,
    )


# --- logistics companies ------------------------------------------------------------------------

def logistics_companies() -> DatasourceRead[LogisticsCompanyRecord]:
    """Evidence: datasource 100292 of form 100039, column 110673."""
    return DatasourceRead(LOGISTICS, LogisticsCompanyRecord)
