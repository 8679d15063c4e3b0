"""ERP records (validated by ``bff.erp.models``) → domain objects. The one place that knows
how the ERP's fields and codes translate: status codes, rates, masks, attachment links."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from urllib.parse import quote

from bff.domain import Attachment, Material, Order, OrderStatus, Progress, Shipment, ShipmentLine
from bff.erp.forms import ORDER_STATUS_NAMES, OrderStatusCode
from bff.security import mask_address, mask_phone

UNKNOWN_STATUS_NAME = "状态未知"
# The ERP's codes and names (bff.erp.forms) onto the domain's states, which share their member names.
STATUS_BY_CODE: dict[int, tuple[OrderStatus, str]] = {
    int(code): (OrderStatus[code.name], ORDER_STATUS_NAMES[code]) for code in OrderStatusCode
}
_NAME_BY_STATUS = {status.value: name for status, name in STATUS_BY_CODE.values()}
CODES_BY_STATUS: dict[OrderStatus, list[int]] = {status: [code] for code, (status, _) in STATUS_BY_CODE.items()}
FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})


def status_name(status: str | None) -> str:
    """The Chinese name of a domain status value (as snapshots store it)."""
    return _NAME_BY_STATUS.get(status or "", UNKNOWN_STATUS_NAME)


def fields(record: Any) -> dict[str, Any]:
    """A validated record's values under the ERP's own field names."""
    return dict(record.model_dump(by_alias=True))


def _num(value: Any) -> float:
    return float(value) if value is not None else 0.0


def _opt_num(value: Any) -> float | None:
    return float(value) if value is not None else None


def _date(value: Any) -> datetime | None:
    return value if isinstance(value, datetime) else None


def _text(value: Any) -> str | None:
    return str(value) if value not in (None, "") else None


def order_from_record(record: Any) -> Order:
    f = fields(record)
    code = int(f["status"]) if f.get("status") is not None else 0
    status, name = STATUS_BY_CODE.get(code, (OrderStatus.UNKNOWN, UNKNOWN_STATUS_NAME))
    return Order(
        id=str(f["id"]),
        code=str(f["code"]),
        customer_id=str(f["customerId"]),
        customer_name=_text(f.get("customerName")),
        customer_order_code=_text(f.get("customerOrderCode")),
        date=_date(f.get("date")),
        delivery_date=_date(f.get("deliveryDate")),
        status=status,
        status_code=code,
        status_name=name,
        amount=_opt_num(f.get("amount")),
        rmb_amount=_opt_num(f.get("rmbAmount")),
        currency=_text(f.get("currency")),
        quantity=_opt_num(f.get("quantity")),
        produced_rate=_opt_num(f.get("producedRate")),
        shipped_rate_by_quantity=_opt_num(f.get("shippedRate")),
        remark=_text(f.get("remark")),
    )


def material_from_record(record: Any) -> Material:
    f = fields(record)
    ordered = _num(f.get("quantity"))
    produced = _num(f.get("producedQuantity"))
    unproduced = f.get("unProducedQuantity")
    progress = Progress(
        ordered=ordered,
        producing=_num(f.get("producingQuantity")),
        produced=produced,
        unproduced=_num(unproduced) if unproduced is not None else max(0.0, ordered - produced),
        shipping=_num(f.get("shippingQuantity")),
        shipped=_num(f.get("shippedQuantity")),
        returned=_num(f.get("returnedQuantity")),
    )
    return Material(
        id=str(f["id"]),
        order_id=str(f["salesOrderId"]),
        order_code=_text(f.get("salesOrderCode")),
        product_code=_text(f.get("productCode")),
        name=_text(f.get("productName")),
        spec=_text(f.get("spec")),
        brand=_text(f.get("brand")),
        image=_text(f.get("image")),
        quantity=ordered,
        unit=_text(f.get("unitId")),
        price=_opt_num(f.get("price")),
        amount=_opt_num(f.get("amount")),
        delivery_date=_date(f.get("deliveryDate")),
        progress=progress,
    )


def total_progress(materials: Iterable[Material]) -> Progress:
    items = [m.progress for m in materials]
    return Progress(
        ordered=sum(p.ordered for p in items),
        producing=sum(p.producing for p in items),
        produced=sum(p.produced for p in items),
        unproduced=sum(p.unproduced for p in items),
        shipping=sum(p.shipping for p in items),
        shipped=sum(p.shipped for p in items),
        returned=sum(p.returned for p in items),
    )


def shipped_value_rate(materials: Iterable[Material]) -> float:
    """Value shipped ÷ order value (line price × shipped quantity over line amounts)."""
    total = shipped = 0.0
    for m in materials:
        value = m.amount if m.amount is not None else (m.price or 0.0) * m.quantity
        unit_value = value / m.quantity if m.quantity else 0.0
        total += value
        shipped += unit_value * min(m.progress.shipped, m.quantity)
    return round(shipped / total, 4) if total > 0 else 0.0


def _split(value: Any) -> tuple[str, ...]:
    return tuple(part.strip() for part in str(value or "").split(",") if part.strip())


def attachments_of(shipment_id: str, raw: Any) -> tuple[Attachment, ...]:
    result = []
    for index, entry in enumerate(_split(raw)):
        _, _, name = entry.partition("#")
        result.append(Attachment(name=name or entry.rsplit("/", 1)[-1], url=f"/api/files/{shipment_id}/{index}/{quote(name or 'file')}"))
    return tuple(result)


def attachment_path(raw: Any, index: int) -> str | None:
    entries = _split(raw)
    if not 0 <= index < len(entries):
        return None
    return entries[index].partition("#")[0] or None


def shipment_from_record(record: Any, logistics_names: dict[str, str]) -> Shipment:
    f = fields(record)
    order_ids = _split(f.get("salesOrderIds")) or _split(f.get("salesOrderId"))
    order_codes = _split(f.get("orderCodes")) or _split(f.get("salesOrderCode"))
    company_id = f.get("logisticsCompanyId")
    shipment_id = str(f["id"])
    return Shipment(
        id=shipment_id,
        code=str(f["code"]),
        order_ids=order_ids,
        order_codes=order_codes,
        ship_date=_date(f.get("发货日期")) or _date(f.get("date")),
        logistics_company=logistics_names.get(str(company_id)) if company_id is not None else None,
        tracking_number=_text(f.get("logisticsCode")),
        shipped=bool(f.get("是否发货")),
        left_warehouse=bool(f.get("已出库")),
        address=mask_address(_text(f.get("address"))),
        contact=_text(f.get("contact")),
        mobile=mask_phone(_text(f.get("mobile")) or _text(f.get("tel"))),
        attachments=attachments_of(shipment_id, f.get("attachments")),
    )


def shipment_line_from_record(record: Any) -> ShipmentLine:
    f = fields(record)
    return ShipmentLine(
        id=str(f["id"]),
        shipment_id=str(f["parentId"]),
        order_id=_text(f.get("salesOrderId")),
        material_id=_text(f.get("salesOrderLineId")),
        product_code=_text(f.get("productCode")),
        name=_text(f.get("productName")),
        spec=_text(f.get("spec")),
        brand=_text(f.get("brand")),
        quantity=_num(f.get("quantity")),
        batch=_text(f.get("batch")),
    )
