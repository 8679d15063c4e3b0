from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from bff.erp import (
    CustomerRecord,
    DeliveryLineRecord,
    DeliveryRecord,
    LogisticsCompanyRecord,
    OrderLineRecord,
    SalesOrderRecord,
)
from bff.erp.forms import LOGISTICS, ORDER_STATUS_NAMES, OrderStatusCode


def test_form_vocabulary() -> None:
    assert (LOGISTICS.form_id, LOGISTICS.datasource_id, LOGISTICS.col_id) == (100039, 100292, 110673)
    assert ORDER_STATUS_NAMES[OrderStatusCode.CANCELLED] == "已取消"
    assert [int(code) for code in OrderStatusCode] == [1, 2, 4, 5]


def test_order_ids_become_strings_and_dates_utc() -> None:
    record = SalesOrderRecord.model_validate(
        {"id": 123, "code": "SO2025121502", "customerId": 36, "status": "4", "date": 1765756800000,
         "shippedRate": 0.5, "amount": 12.5, "unexpected": "ignored"}
    )
    assert record.id == "123" and record.customerId == "36" and record.status == 4
    assert record.date == datetime(2025, 12, 15, tzinfo=UTC)
    assert record.shippedRate == 0.5 and record.amount == 12.5
    assert record.deliveryDate is None


def test_unknown_status_is_kept() -> None:
    assert SalesOrderRecord.model_validate({"id": 1, "code": "x", "customerId": 2, "status": 9}).status == 9


@pytest.mark.parametrize("missing", ["id", "code", "customerId", "status"])
def test_order_required_fields(missing: str) -> None:
    row = {"id": 1, "code": "x", "customerId": 2, "status": 1}
    del row[missing]
    with pytest.raises(ValidationError):
        SalesOrderRecord.model_validate(row)


def test_rate_outside_zero_one_is_invalid() -> None:
    with pytest.raises(ValidationError):
        SalesOrderRecord.model_validate({"id": 1, "code": "x", "customerId": 2, "status": 1, "shippedRate": 50})


def test_order_line_required() -> None:
    line = OrderLineRecord.model_validate({"id": 5, "salesOrderId": 1, "quantity": "3"})
    assert (line.id, line.salesOrderId, line.quantity) == ("5", "1", 3.0)
    with pytest.raises(ValidationError):
        OrderLineRecord.model_validate({"id": 5, "salesOrderId": 1})


def test_customer_invite_code_alias_round_trip() -> None:
    record = CustomerRecord.model_validate({"id": 36, "name": "甲", "微信邀请码": "INV-1", "disable": 0, "mobile": 13800000000})
    assert record.invite_code == "INV-1" and record.disable is False and record.mobile == "13800000000"
    assert record.model_dump(by_alias=True)["微信邀请码"] == "INV-1"
    assert CustomerRecord(id="1", invite_code="X").invite_code == "X"  # populate_by_name


def test_delivery_helpers_and_custom_fields() -> None:
    record = DeliveryRecord.model_validate({
        "id": 9, "code": "XS1", "customerOrSupplierId": 36, "salesOrderIds": "1, 2,", "salesOrderId": 1,
        "orderCodes": "SO1,SO2", "attachments": "2025/a.pdf#装箱单.pdf,2025/b.jpg",
        "发货日期": 1765756800000, "已出库": True, "是否发货": "否",
    })
    assert record.order_ids() == ["1", "2"]
    assert record.order_codes() == ["SO1", "SO2"]
    assert record.attachment_list() == [("2025/a.pdf", "装箱单.pdf"), ("2025/b.jpg", "b.jpg")]
    assert record.ship_date == datetime(2025, 12, 15, tzinfo=UTC)
    assert record.left_warehouse is True and record.shipped is False
    fallback = DeliveryRecord.model_validate({"id": 1, "code": "c", "customerOrSupplierId": 2, "salesOrderId": 7})
    assert fallback.order_ids() == ["7"] and fallback.attachment_list() == []


def test_json_dump_validates_back() -> None:
    # Downstream caches dump records as JSON (ISO dates) and validate them again.
    record = DeliveryRecord.model_validate({"id": 1, "code": "c", "customerOrSupplierId": 2, "发货日期": 1765756800000})
    again = DeliveryRecord.model_validate(record.model_dump(mode="json", by_alias=True))
    assert again == record and again.ship_date is not None and again.ship_date.tzinfo is not None


def test_other_records() -> None:
    assert DeliveryLineRecord.model_validate({"id": 3, "parentId": 9, "quantity": 2}).parentId == "9"
    assert LogisticsCompanyRecord.model_validate({"id": 1, "name": "顺丰"}).id == "1"
    with pytest.raises(ValidationError):
        LogisticsCompanyRecord.model_validate({"id": True, "name": "x"})


_part = st.text(alphabet=st.characters(blacklist_characters=",#", blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=12)


@given(st.lists(st.tuples(_part, _part), max_size=5))
def test_attachment_list_round_trip(entries: list[tuple[str, str]]) -> None:
    raw = ",".join(f"{path}#{name}" for path, name in entries)
    record = DeliveryRecord(id="1", code="c", customerOrSupplierId="2", attachments=raw or None)
    assert record.attachment_list() == entries


@given(st.integers(min_value=1, max_value=4102444800000))
def test_epoch_ms_dates_are_utc(ms: int) -> None:
    record = SalesOrderRecord.model_validate({"id": 1, "code": "c", "customerId": 2, "status": 1, "date": ms})
    assert record.date is not None and record.date.tzinfo is not None
    assert round(record.date.timestamp() * 1000) == ms
