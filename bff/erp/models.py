"""Typed records of the ERP forms, validated on every read.

Attribute names are the ERP's own field names (camelCase), so ``model_dump(by_alias=True)``
speaks the ERP's vocabulary; Chinese custom fields get English attributes with aliases.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field


def _to_id(value: Any) -> Any:
    # The ERP sends ids as numbers or strings depending on the form; bools are never ids.
    if isinstance(value, bool):
        raise ValueError("boolean is not an id")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value


def _to_text(value: Any) -> Any:
    if value is None or value == "":
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _to_id(value) if isinstance(value, int) or value.is_integer() else str(value)
    return value


def _from_epoch_ms(value: Any) -> Any:
    # Dates travel as epoch milliseconds; ISO strings (our own cached dumps) pass through.
    if value is None or value == "" or value == 0:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000, tz=UTC)
    if isinstance(value, str) and value.lstrip("-").isdigit():
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC)
    return value


def _utc(value: datetime | None) -> datetime | None:
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _to_bool(value: Any) -> Any:
    if value in ("是", "Y", "y"):
        return True
    if value in ("否", "N", "n", ""):
        return False
    return value


ErpId = Annotated[str, BeforeValidator(_to_id), Field(min_length=1)]
OptId = Annotated[str | None, BeforeValidator(_to_text)]
Text = Annotated[str | None, BeforeValidator(_to_text)]
EpochMs = Annotated[datetime | None, BeforeValidator(_from_epoch_ms), AfterValidator(_utc)]
Rate = Annotated[float | None, Field(ge=0, le=1)]
Number = float | None
Flag = Annotated[bool | None, BeforeValidator(_to_bool)]


class ErpRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")


class CustomerRecord(ErpRecord):
    id: ErpId
    code: Text = None
    name: Text = None
    abbr: Text = None
    customerType: Text = None
    type: Text = None
    province: Text = None
    city: Text = None
    county: Text = None
    category: Text = None
    level: Text = None
    industry: Text = None
    currency: Text = None
    ownerId: OptId = None
    disable: Flag = None
    contact: Text = None
    mobile: Text = None
    invite_code: Text = Field(None, alias="微信邀请码")


class SalesOrderRecord(ErpRecord):
    id: ErpId
    code: Annotated[str, BeforeValidator(_to_text)]
    customerId: ErpId
    status: int  # unknown codes allowed; mapped to an UNKNOWN state downstream
    customerOrderCode: Text = None
    date: EpochMs = None
    customerName: Text = None
    deliveryDate: EpochMs = None
    amount: Number = None
    rmbAmount: Number = None
    currency: Text = None
    quantity: Number = None
    produceQuantity: Number = None
    produced: Number = None
    producedRate: Rate = None
    producingRate: Rate = None
    shippedRate: Rate = None
    shippingRate: Rate = None
    stockOutRate: Rate = None
    receivedRate: Rate = None
    invoicedRate: Rate = None
    remark: Text = None
    contact: Text = None
    mobile: Text = None
    address: Text = None
    shipmentContact: Text = None
    shipmentMobile: Text = None
    shipmentAddress: Text = None


class OrderLineRecord(ErpRecord):
    id: ErpId
    salesOrderId: ErpId
    quantity: float
    salesOrderCode: Text = None
    productId: OptId = None
    productCode: Text = None
    productName: Text = None
    spec: Text = None
    brand: Text = None
    image: Text = None
    unitId: Text = None
    producingQuantity: Number = None
    producedQuantity: Number = None
    unProducedQuantity: Number = None
    shippedQuantity: Number = None
    shippingQuantity: Number = None
    returnedQuantity: Number = None
    deliveryDate: EpochMs = None
    stockOutDate: EpochMs = None
    status: int | None = None
    produceType: Text = None
    price: Number = None
    amount: Number = None
    remark: Text = None


def _split(value: str | None) -> list[str]:
    return [part.strip() for part in (value or "").split(",") if part.strip()]


class DeliveryRecord(ErpRecord):
    id: ErpId
    code: Annotated[str, BeforeValidator(_to_text)]
    customerOrSupplierId: ErpId
    orderCodes: Text = None
    salesOrderId: OptId = None
    salesOrderIds: Text = None
    salesOrderCode: Text = None
    date: EpochMs = None
    finished: Flag = None
    amount: Number = None
    rmbAmount: Number = None
    contact: Text = None
    tel: Text = None
    mobile: Text = None
    address: Text = None
    remark: Text = None
    logisticsCode: Text = None
    logisticsCompanyId: OptId = None
    attachments: Text = None
    ship_date: EpochMs = Field(None, alias="发货日期")
    left_warehouse: Flag = Field(None, alias="已出库")
    shipped: Flag = Field(None, alias="是否发货")

    def order_ids(self) -> list[str]:
        """The orders this shipment carries: ``salesOrderIds`` (comma-separated), else ``salesOrderId``."""
        return _split(self.salesOrderIds) or _split(self.salesOrderId)

    def order_codes(self) -> list[str]:
        return _split(self.orderCodes) or _split(self.salesOrderCode)

    def attachment_list(self) -> list[tuple[str, str]]:
        """``"<path>#<name>,..."`` → [(path, name)]; a missing name falls back to the path's last part."""
        result = []
        for entry in _split(self.attachments):
            path, _, name = entry.partition("#")
            if path:
                result.append((path, name or path.rsplit("/", 1)[-1]))
        return result


class DeliveryLineRecord(ErpRecord):
    id: ErpId
    parentId: OptId = None
    salesOrderId: OptId = None
    salesOrderLineId: OptId = None
    productId: OptId = None
    productName: Text = None
    productCode: Text = None
    spec: Text = None
    brand: Text = None
    quantity: Number = None
    price: Number = None
    amount: Number = None
    batch: Text = None
    stockCode: Text = None
    finished: Flag = None
    remark: Text = None


class LogisticsCompanyRecord(ErpRecord):
    id: ErpId
    name: Text = None


M = TypeVar("M", bound=BaseModel)


@dataclass
class ErpPage(Generic[M]):
    count: int
    rows: list[M] = field(default_factory=list)
