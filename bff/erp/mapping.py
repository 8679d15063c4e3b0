"""ERP records (read by :mod:`bff.erp.models`) → domain objects. The one place that knows how
the ERP's fields and codes translate: status codes, masks, attachment links."""

from __future__ import annotations

from urllib.parse import quote

from bff.core.domain import Attachment, Company, Material, Order, OrderStatus, Progress, Shipment, ShipmentLine
from bff.core.security import mask_address, mask_phone
from bff.erp.models import CustomerRecord, DeliveryLineRecord, DeliveryRecord, FileRef, OrderLineRecord, SalesOrderRecord
from bff.erp.queries import ORDER_STATUS_NAMES, OrderStatusCode

UNKNOWN_STATUS_NAME = "状态未知"
# The ERP's codes and names (bff.erp.queries) onto the domain's states, which share their member names.
STATUS_BY_CODE: dict[int, tuple[OrderStatus, str]] = {
    int(code): (OrderStatus[code.name], ORDER_STATUS_NAMES[code]) for code in OrderStatusCode
}
_NAME_BY_STATUS = {status.value: name for status, name in STATUS_BY_CODE.values()}
CODES_BY_STATUS: dict[OrderStatus, list[int]] = {status: [code] for code, (status, _) in STATUS_BY_CODE.items()}
FINAL_STATUSES = frozenset({OrderStatus.COMPLETED, OrderStatus.CANCELLED})


def status_name(status: str | None) -> str:
    """The Chinese name of a domain status value (as snapshots store it)."""
    return _NAME_BY_STATUS.get(status or "", UNKNOWN_STATUS_NAME)


def company_from_record(record: CustomerRecord) -> Company:
    return Company(
        id=record.id,
        name=record.name or record.abbr or record.code or record.id,
        code=record.code,
        abbr=record.abbr,
        province=record.province,
        city=record.city,
        contact=record.contact,
        mobile=record.mobile,
        disabled=bool(record.disable),
    )


def order_from_record(record: SalesOrderRecord) -> Order:
    code = record.status if record.status is not None else 0
    status, name = STATUS_BY_CODE.get(code, (OrderStatus.UNKNOWN, UNKNOWN_STATUS_NAME))
    return Order(
        id=record.id,
        code=record.code or record.id,  # a number-less order still needs a label
        customer_id=record.customerId,
        customer_name=record.customerName,
        customer_order_code=record.customerOrderCode,
        date=record.date,
        delivery_date=record.deliveryDate,
        status=status,
        status_code=code,
        status_name=name,
        amount=record.amount,
        rmb_amount=record.rmbAmount,
        currency=record.currency,
        quantity=record.quantity,
        produced_rate=record.producedRate,
        remark=record.remark,
        row_shipped_rate=record.shippedRate,
    )


def material_from_record(record: OrderLineRecord, *, via_order: bool = False) -> Material:
    ordered = record.quantity or 0.0
    produced = record.producedQuantity or 0.0
    unproduced = record.unProducedQuantity
    progress = Progress(
        ordered=ordered,
        producing=record.producingQuantity or 0.0,
        produced=produced,
        unproduced=unproduced if unproduced is not None else max(0.0, ordered - produced),
        shipping=record.shippingQuantity or 0.0,
        shipped=record.shippedQuantity or 0.0,
        returned=record.returnedQuantity or 0.0,
    )
    return Material(
        id=record.id,
        order_id=record.salesOrderId,
        order_code=record.salesOrderCode,
        product_code=record.productCode,
        name=record.productName,
        spec=record.spec,
        brand=record.brand,
        image=record.image,
        quantity=ordered,
        unit=record.unitId,
        price=record.price,
        amount=record.amount,
        delivery_date=record.deliveryDate,
        progress=progress,
        via_order=via_order,
    )


def attachments_of(record: DeliveryRecord) -> tuple[Attachment, ...]:
    """Links through the BFF (``/api/files/...``): the ERP's paths never reach a client. Names
    are decoded (``bff.erp.models``), so the client tells images by the name's extension."""
    return tuple(
        Attachment(name=ref.name, url=f"/api/files/{record.id}/{index}/{quote(ref.name, safe='')}", size=ref.size)
        for index, ref in enumerate(record.attachments)
    )


def attachment_of(record: DeliveryRecord, index: int) -> FileRef | None:
    """The ``index``-th attachment (path, decoded name, declared size), if the record has it."""
    refs = record.attachments
    return refs[index] if 0 <= index < len(refs) else None


def attachment_path(record: DeliveryRecord, index: int) -> str | None:
    ref = attachment_of(record, index)
    return ref.path if ref is not None else None


def shipment_from_record(record: DeliveryRecord, logistics_company: str | None) -> Shipment:
    return Shipment(
        id=record.id,
        code=record.code or record.id,
        order_ids=record.order_ids(),
        order_codes=record.order_codes(),
        ship_date=record.ship_date or record.date,
        logistics_company=logistics_company,
        tracking_number=record.logisticsCode,
        remark=record.remark,
        shipped=bool(record.dispatched),
        left_warehouse=bool(record.left_warehouse),
        address=mask_address(record.address),
        contact=record.contact,
        mobile=mask_phone(record.mobile or record.tel),
        attachments=attachments_of(record),
        amount=record.amount if record.amount is not None else record.rmbAmount,
        phone_tail=phone_tail(record.mobile or record.tel),
    )


def phone_tail(phone: str | None) -> str | None:
    """The last four digits of a phone number (what 顺丰's track asks for), if it has them."""
    digits = "".join(char for char in phone or "" if char.isascii() and char.isdigit())
    return digits[-4:] if len(digits) >= 7 else None


def shipment_line_from_record(record: DeliveryLineRecord, shipment_id: str, index: int) -> ShipmentLine:
    """``shipment_id`` comes from the read's context (rows may not say their parent)."""
    return ShipmentLine(
        id=record.id or f"{shipment_id}-{index}",
        shipment_id=shipment_id,
        order_id=record.salesOrderId,
        material_id=record.salesOrderLineId,
        product_code=record.productCode,
        name=record.productName,
        spec=record.spec,
        brand=record.brand,
        quantity=record.quantity or 0.0,
        batch=record.batch,
    )
