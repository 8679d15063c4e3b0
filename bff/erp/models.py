"""Typed records of the ERP forms, read tolerantly (see :mod:`bff.erp.fields`).

Attribute names are the ERP's own field names (camelCase; Chinese custom fields get
English attributes with aliases), so this module is where the BFF's knowledge of each
form's fields lives. Fields without a default are the record's identity: a row without
them is skipped (and counted), never shown. Every other field degrades to empty when its
value has an unforeseen shape (:mod:`bff.erp.validation`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bff.erp.fields import Attachments, Date, ErpId, Flag, IdList, Int, Number, OptId, Rate, Text, TextList


class ErpRecord(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore", frozen=True)

    def carries(self, name: str) -> bool:
        """Whether the ERP's answer had this field at all (list reads may leave fields out)."""
        return name in self.model_fields_set

    def value_of(self, erp_field: str) -> object:
        """A value by the ERP's field name (aliases such as 微信邀请码 included)."""
        return self.model_dump(by_alias=True).get(erp_field)


class CustomerRecord(ErpRecord):
    """Form 100004 (客户). Evidence: the reference's field list."""

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
    """Form 100001 (销售订单). ``status`` codes other than 1, 2, 4, 5 mean "unknown", never a crash."""

    id: ErpId
    customerId: ErpId
    code: Text = None
    status: Int = None
    customerOrderCode: Text = None
    date: Date = None
    customerName: Text = None
    deliveryDate: Date = None
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
    """Form 100185 (销售订单产品): one material of an order."""

    id: ErpId
    salesOrderId: ErpId
    quantity: Number = None
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
    deliveryDate: Date = None
    stockOutDate: Date = None
    status: Int = None
    produceType: Text = None
    price: Number = None
    amount: Number = None
    remark: Text = None


class DeliveryRecord(ErpRecord):
    """Form 100039 (销售出库单): one shipment, possibly carrying several orders.

    Evidence: ``attachments`` is a JSON list of ``"<path>#<name>"`` in getBusiness detail (other
    shapes tolerated); ``logisticsCompanyId`` is evidenced in detail only; ``发货日期`` is epoch
    ms; ``已出库`` (left the warehouse) and ``是否发货`` (dispatched) are separate booleans.
    """

    id: ErpId
    customerOrSupplierId: ErpId
    code: Text = None
    orderCodes: TextList = ()
    salesOrderId: OptId = None
    salesOrderIds: IdList = ()
    salesOrderCode: Text = None
    date: Date = None
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
    attachments: Attachments = ()
    ship_date: Date = Field(None, alias="发货日期")
    left_warehouse: Flag = Field(None, alias="已出库")
    dispatched: Flag = Field(None, alias="是否发货")

    def order_ids(self) -> tuple[str, ...]:
        """The orders this shipment carries: ``salesOrderIds``, else ``salesOrderId``."""
        return self.salesOrderIds or ((self.salesOrderId,) if self.salesOrderId else ())

    def order_codes(self) -> tuple[str, ...]:
        return self.orderCodes or ((self.salesOrderCode,) if self.salesOrderCode else ())


class DeliveryLineRecord(ErpRecord):
    """Form 100041 (出库单明细), a column form read per delivery (``condition {"parent.id"}``).

    Evidence: the live answer had ``productName, spec, quantity``; whether rows carry an ``id``
    or any link field (``parentId``, ``salesOrderId``, ``salesOrderLineId``) is unknown, so
    none is required: the delivery is known from the read's own context.
    """

    id: OptId = None
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
    """Datasource 100292 of form 100039 (物流公司)."""

    id: ErpId
    name: Text = None


M = TypeVar("M", bound=BaseModel)


@dataclass
class ErpPage(Generic[M]):
    count: int
    rows: list[M] = field(default_factory=list)
