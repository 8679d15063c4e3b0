"""The simulator's form vocabulary: form ids and the fields that behave specially.

Kept apart from ``bff.erp`` on purpose: the simulator is a stand-in for a foreign service
and must not share the BFF's assumptions.
"""

from __future__ import annotations

CUSTOMERS, ORDERS, ORDER_LINES, DELIVERIES, DELIVERY_LINES = 100004, 100001, 100185, 100039, 100041
LOGISTICS_DATASOURCE = 100292
DATASOURCE = 0  # pseudo form id of datasource rows (no form of their own)

# Fields searched by filters.systemFulltext, per form.
FULLTEXT: dict[int, tuple[str, ...]] = {
    CUSTOMERS: ("code", "name", "abbr", "contact", "mobile"),
    ORDERS: ("code", "customerOrderCode", "customerName", "remark"),
    ORDER_LINES: ("productName", "productCode", "spec", "brand", "salesOrderCode"),
    DELIVERIES: ("code", "orderCodes", "logisticsCode"),
    DELIVERY_LINES: ("productName", "productCode", "spec", "brand", "salesOrderCode"),
}
# The one `condition` key each form takes as its parent context (evidence); others are ignored.
CONTEXT: dict[int, str] = {ORDER_LINES: "form.id", DELIVERY_LINES: "parent.id", DELIVERIES: "salesOrderProductIds"}
# Date fields, held as epoch ms (evidence: 发货日期 1765756800000).
DATES: dict[int, tuple[str, ...]] = {
    ORDERS: ("date", "deliveryDate"), ORDER_LINES: ("deliveryDate", "stockOutDate"), DELIVERIES: ("date", "发货日期"),
}
# Delivery-line fields linking a line to its delivery and order: no real client ever saw them.
LINE_LINKS = ("parentId", "salesOrderId", "salesOrderLineId", "salesOrderCode")
CUSTOM_BOOLEANS = ("已出库", "是否发货")  # the ERP's custom yes/no fields, which may come as 是/否
UNKNOWN_STATUSES = (3, 6, 9)
SUMMED = ("amount", "rmbAmount", "quantity")
