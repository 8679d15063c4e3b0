"""The tolerant reader: every plausible shape read, an odd field degraded alone, a row without
identity skipped, each counted by field name and logged without its value."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bff.erp import (
    CustomerRecord,
    DeliveryLineRecord,
    DeliveryRecord,
    LogisticsCompanyRecord,
    OrderLineRecord,
    SalesOrderRecord,
)
from bff.erp.anomalies import RECORD, Anomalies
from bff.erp.models import FileRef, read_record, read_rows
from bff.erp.queries import DELIVERIES, LOGISTICS, ORDER_STATUS_NAMES, SALES_ORDERS, OrderStatusCode

SHANGHAI = timezone(timedelta(hours=8))
EVIDENCED_PATH = "35/693ce2cba75b1057af4975bb/f8a9cb6bdeef473b9e14fd0538349154"


def delivery(**fields: Any) -> dict[str, Any]:
    return {"id": 9, "code": "XS1", "customerOrSupplierId": 36, **fields}


def read_delivery(anomalies: Anomalies | None = None, **fields: Any) -> DeliveryRecord:
    record = read_record(DELIVERIES, DeliveryRecord, delivery(**fields), anomalies or Anomalies())
    assert record is not None
    return record


def test_form_vocabulary() -> None:
    assert (LOGISTICS.form_id, LOGISTICS.datasource_id, LOGISTICS.col_id) == (100039, 100292, 110673)
    assert ORDER_STATUS_NAMES[OrderStatusCode.CANCELLED] == "已取消"
    assert [int(code) for code in OrderStatusCode] == [1, 2, 4, 5]


P = EVIDENCED_PATH
NAME = "XSCK2025121501 装箱单 & 质检#2 100%.pdf"  # a space, Chinese, and the characters encoding is for
ENCODED = "XSCK2025121501%20%E8%A3%85%E7%AE%B1%E5%8D%95%20%26%20%E8%B4%A8%E6%A3%80%232%20100%25.pdf"


@pytest.mark.parametrize(
    "raw, expected",
    [
        # The evidenced shape: "<path>#size=<bytes>&name=<URL-encoded name>", the keys in either order.
        ([f"{P}#size=48213&name={ENCODED}"], [FileRef(P, NAME, 48213)]),
        ([f"{P}#name={ENCODED}&size=48213"], [FileRef(P, NAME, 48213)]),
        ([f"{P}#size=12&name=%E7%AD%BE%E6%94%B6%E5%8D%95.png", f"{P}x#name=a.jpg&size=7&v=2"],
         [FileRef(P, "签收单.png", 12), FileRef(P + "x", "a.jpg", 7)]),  # another key ignored
        ([f"{P}#size=12&name=%E4%B8%80+%E4%BA%8C.pdf"], [FileRef(P, "一 二.pdf", 12)]),  # form encoding: + is a space
        ([f"{P}#size=12&name=a+b%20c.pdf"], [FileRef(P, "a+b c.pdf", 12)]),  # %20 for spaces: + is a plus
        ([f"{P}#size=12&name=%E8%A3%85.pdf,x"], [FileRef(P, "装.pdf,x", 12)]),  # in a list, a comma is the name's
        ([f"{P}#size=12&name=%FF%FE.pdf"], [FileRef(P, "%FF%FE.pdf", 12)]),  # not UTF-8: as sent
        ([f"{P}#name={ENCODED}&size=big"], [FileRef(P, NAME, None)]),  # a size that is no number
        # Without a name: "附件<n>" by position, the path's extension if any (evidenced paths have none).
        ([f"{P}#size=123"], [FileRef(P, "附件1", 123)]),
        ([f"{P}#size=1&name=a.pdf", f"{P}#size=123&name="], [FileRef(P, "a.pdf", 1), FileRef(P, "附件2", 123)]),
        ([P], [FileRef(P, "附件1")]),
        (["img/p501.png#"], [FileRef("img/p501.png", "附件1.png")]),
        # The bare "<path>#<name>": decoded only when clearly encoded.
        ([f"{P}#装箱单.pdf"], [FileRef(P, "装箱单.pdf")]),
        ([f"{P}#{NAME}"], [FileRef(P, NAME)]),  # "#" and "%" in a bare name stay as they are
        ([f"{P}#%E8%A3%85%E7%AE%B1%E5%8D%95.pdf"], [FileRef(P, "装箱单.pdf")]),
        ([f"{P}#100%AB.pdf"], [FileRef(P, "100%AB.pdf")]),  # an escape that is no UTF-8: not encoded
        ([f"{P}#50%25 off.pdf"], [FileRef(P, "50%25 off.pdf")]),  # a space: not encoded
        ([f"{P}#a+b.pdf"], [FileRef(P, "a+b.pdf")]),
        # A comma-joined string, of either entry shape.
        ("a/1#甲.pdf,b/2", [FileRef("a/1", "甲.pdf"), FileRef("b/2", "附件2")]),
        (f"{P}#name=%E7%94%B2.pdf&size=5,/b/2#size=6&name=%E4%B9%99.png",
         [FileRef(P, "甲.pdf", 5), FileRef("b/2", "乙.png", 6)]),
        ('["a/1#甲.pdf"]', [FileRef("a/1", "甲.pdf")]),  # a JSON text of the list
        (f'["{P}#size=3&name=%E7%94%B2.pdf"]', [FileRef(P, "甲.pdf", 3)]),
        # Objects, with their own size or the path's fragment.
        ([{"path": "a/1", "name": "甲.pdf"}, {"url": "/b/2", "fileName": "乙.jpg", "size": "2048"}],
         [FileRef("a/1", "甲.pdf"), FileRef("b/2", "乙.jpg", 2048)]),
        ([{"url": f"{P}#size=9&name=%E7%94%B2.pdf"}], [FileRef(P, "甲.pdf", 9)]),
        ([{"path": P, "name": "", "size": 4}], [FileRef(P, "附件1", 4)]),
        ({"path": "a/1#甲.pdf"}, [FileRef("a/1", "甲.pdf")]),  # one object
        (None, []), ("", []), ([], []), (["", None], []), (["#size=1&name=a.pdf"], []),  # nothing
    ],
)
def test_attachments_in_every_plausible_shape(raw: Any, expected: list[FileRef]) -> None:
    anomalies = Anomalies()
    assert list(read_delivery(anomalies, attachments=raw).attachments) == expected
    assert not anomalies.counts


@given(st.lists(st.text(alphabet=st.sampled_from("ab/#&=%+,.名 2F8E9"), max_size=30), max_size=4)
       | st.text(max_size=60))
def test_any_attachment_text_reads_without_failing_the_record(raw: Any) -> None:
    """Whatever text the ERP sends, the delivery is read; every attachment has a path and a name."""
    anomalies = Anomalies()
    record = read_delivery(anomalies, attachments=raw, logisticsCode="YT2575314341109")
    assert record.logisticsCode == "YT2575314341109"
    assert all(ref.path and ref.name and "#" not in ref.path for ref in record.attachments)


def test_attachments_read_back_as_dumped() -> None:
    """A record dumped (the watcher's snapshot) reads back to the same attachments."""
    record = read_delivery(attachments=[f"{P}#name={ENCODED}&size=48213", f"{P}#size=3", f"{P}#甲 乙.pdf"])
    dumped = record.model_dump(mode="json", by_alias=True)["attachments"]
    assert dumped[0] == f"{P}#size=48213&name={ENCODED}"
    assert read_delivery(attachments=dumped).attachments == record.attachments


@pytest.mark.parametrize("raw", [42, True, [42], [["a"]], "[not json", [f"{EVIDENCED_PATH}#size=1", 7]])
def test_unforeseen_attachments_degrade_that_field_only(raw: Any) -> None:
    anomalies = Anomalies()
    record = read_delivery(anomalies, attachments=raw, logisticsCode="YT2575314341109", remark="金通物流-青田白帆")
    assert record.attachments == ()
    assert (record.logisticsCode, record.remark) == ("YT2575314341109", "金通物流-青田白帆")
    assert anomalies.counts == {(DELIVERIES, "attachments"): 1}


@pytest.mark.parametrize("raw, expected", [
    (True, True), (False, False), (1, True), (0, False), ("1", True), ("0", False), ("true", True),
    ("false", False), ("是", True), ("否", False), ("Y", True), ("", False), (None, None),
])
def test_flags_as_sent(raw: Any, expected: bool | None) -> None:
    assert read_delivery(是否发货=raw).dispatched is expected


@pytest.mark.parametrize("raw", [1765756800000, "1765756800000", 1765756800, "1765756800", 1765756800000.0,
                                 "2025-12-15T00:00:00Z", "2025-12-15T08:00:00+08:00", "2025-12-15 08:00:00"])
def test_dates_as_epoch_ms_epoch_s_or_iso(raw: Any) -> None:
    assert read_delivery(发货日期=raw).ship_date == datetime(2025, 12, 15, tzinfo=UTC)


def test_naive_date_text_is_erp_local_time() -> None:
    assert read_delivery(发货日期="2025-12-15").ship_date == datetime(2025, 12, 15, tzinfo=SHANGHAI)


@pytest.mark.parametrize("raw", ["昨天", [1], {"t": 1}, True])
def test_unreadable_date_degrades(raw: Any) -> None:
    anomalies = Anomalies()
    assert read_delivery(anomalies, 发货日期=raw).ship_date is None
    assert anomalies.counts == {(DELIVERIES, "发货日期"): 1}


def test_numbers_ids_and_rates_as_text() -> None:
    row = {"id": "123", "code": "SO2025121502", "customerId": "36", "status": "4", "amount": "1,234.5",
           "quantity": "2.0", "shippedRate": "50", "producedRate": 0.5, "unexpected": {"nested": [1]}}
    anomalies = Anomalies()
    record = read_record(SALES_ORDERS, SalesOrderRecord, row, anomalies)
    assert record is not None and not anomalies.counts
    assert (record.id, record.customerId, record.status) == ("123", "36", 4)
    assert (record.amount, record.quantity, record.shippedRate, record.producedRate) == (1234.5, 2.0, 0.5, 0.5)


def test_unknown_or_unreadable_status_is_kept_as_unknown() -> None:
    anomalies = Anomalies()
    assert read_record(SALES_ORDERS, SalesOrderRecord, {"id": 1, "customerId": 2, "status": 9}, anomalies).status == 9  # type: ignore[union-attr]
    odd = read_record(SALES_ORDERS, SalesOrderRecord, {"id": 1, "customerId": 2, "status": "进行中"}, anomalies)
    assert odd is not None and odd.status is None
    assert anomalies.counts == {(SALES_ORDERS, "status"): 1}


@pytest.mark.parametrize("missing", ["id", "customerId"])
def test_a_row_without_identity_is_skipped_and_counted(missing: str) -> None:
    rows = [{"id": 1, "code": "a", "customerId": 2, "status": 1}, {"id": 3, "code": "b", "customerId": 2, "status": 1}]
    del rows[1][missing]
    anomalies = Anomalies()
    records = read_rows(SALES_ORDERS, SalesOrderRecord, [*rows, "not a row", None], anomalies)
    assert [r.id for r in records] == ["1"]
    assert anomalies.counts == {(SALES_ORDERS, RECORD): 3}


def test_identity_of_another_shape_is_skipped() -> None:
    anomalies = Anomalies()
    assert read_record(SALES_ORDERS, SalesOrderRecord, {"id": True, "customerId": 2}, anomalies) is None
    assert read_record(SALES_ORDERS, SalesOrderRecord, {"id": {"v": 1}, "customerId": 2}, anomalies) is None
    assert anomalies.counts[(SALES_ORDERS, RECORD)] == 2


def test_anomalies_are_logged_by_name_once_a_minute_never_by_value(caplog: pytest.LogCaptureFixture) -> None:
    now = [0.0]
    anomalies = Anomalies(clock=lambda: now[0])
    secret = "13800138000-住址-某某路"
    with caplog.at_level(logging.WARNING, logger="bff.erp"):
        for _ in range(5):
            read_delivery(anomalies, attachments=[[secret]], mobile=[secret])
        now[0] = 61.0
        read_delivery(anomalies, attachments=7)
    logged = [r.getMessage() for r in caplog.records]
    assert len([m for m in logged if "field=attachments" in m]) == 2 and len([m for m in logged if "field=mobile" in m]) == 1
    assert all(secret not in m for m in logged)
    assert anomalies.counts[(DELIVERIES, "attachments")] == 6


def test_delivery_links_and_custom_fields() -> None:
    record = read_delivery(
        salesOrderIds="1, 2,", salesOrderId=1, orderCodes="SO1,SO2", 发货日期=1765756800000, 已出库=True, 是否发货="否"
    )
    assert record.order_ids() == ("1", "2") and record.order_codes() == ("SO1", "SO2")
    assert record.left_warehouse is True and record.dispatched is False
    listed = read_delivery(salesOrderIds=[1, "2"], orderCodes=["SO1"])
    assert listed.order_ids() == ("1", "2") and listed.order_codes() == ("SO1",)
    fallback = read_delivery(salesOrderId=7, salesOrderCode="SO7")
    assert fallback.order_ids() == ("7",) and fallback.order_codes() == ("SO7",)


def test_which_fields_an_answer_carried() -> None:
    assert not read_delivery().carries("logisticsCompanyId")
    assert read_delivery(logisticsCompanyId=None).carries("logisticsCompanyId")


def test_customer_invite_code_alias() -> None:
    record = CustomerRecord.model_validate({"id": 36, "name": "甲", "微信邀请码": "INV-1", "disable": "0", "mobile": 13800000000})
    assert record.invite_code == "INV-1" and record.disable is False and record.mobile == "13800000000"
    assert record.value_of("微信邀请码") == "INV-1" and record.value_of("mobile") == "13800000000"


def test_delivery_lines_need_no_identity_of_their_own() -> None:
    # The live answer had productName, spec and quantity: no id, no link field.
    line = DeliveryLineRecord.model_validate({"productName": "熔芯", "spec": "NT00-63A", "quantity": 2.0})
    assert (line.id, line.parentId, line.quantity) == (None, None, 2.0)
    assert OrderLineRecord.model_validate({"id": 5, "salesOrderId": 1, "quantity": "3"}).quantity == 3.0
    assert LogisticsCompanyRecord.model_validate({"id": 1, "name": "顺丰"}).id == "1"


def test_json_dump_reads_back_the_same() -> None:
    # The stale fallback keeps records as JSON and reads them again.
    record = read_delivery(attachments=[f"{EVIDENCED_PATH}#单.pdf"], 发货日期=1765756800000)
    dumped = record.model_dump(mode="json", by_alias=True, exclude_unset=True)
    again = DeliveryRecord.model_validate(dumped)
    assert again == record and again.model_fields_set == record.model_fields_set


_part = st.text(alphabet=st.characters(blacklist_characters=",#/[{", blacklist_categories=("Cs", "Z", "Cc")), min_size=1, max_size=12)
# A bare name with "=" or "%" could be a query string or encoded: those are the examples above.
_bare = st.text(alphabet=st.characters(blacklist_characters=",#/[{=%", blacklist_categories=("Cs", "Z", "Cc")), min_size=1, max_size=12)


@given(st.lists(st.tuples(_part, _bare, st.integers(0, 10**9), st.booleans()), max_size=5),
       st.sampled_from(["query", "list", "string", "objects"]))
def test_attachment_shapes_read_alike(entries: list[tuple[str, str, int, bool]], shape: str) -> None:
    def query(path: str, name: str, size: int, name_first: bool) -> str:
        keys = [f"size={size}", f"name={quote(name, safe='')}"]
        return f"{path}#{'&'.join(keys[::-1] if name_first else keys)}"

    raw: Any = {
        "query": [query(*entry) for entry in entries],
        "list": [f"{p}#{n}" for p, n, _, _ in entries],
        "string": ",".join(f"{p}#{n}" for p, n, _, _ in entries),
        "objects": [{"path": p, "name": n} for p, n, _, _ in entries],
    }[shape]
    expected = [(p.strip(), n.strip(), size if shape == "query" else None) for p, n, size, _ in entries if p.strip()]
    assert [(r.path, r.name, r.size) for r in read_delivery(attachments=raw).attachments] == expected


@given(st.integers(min_value=10**11, max_value=4102444800000))
def test_epoch_ms_dates_are_utc(ms: int) -> None:
    record = SalesOrderRecord.model_validate({"id": 1, "customerId": 2, "date": ms})
    assert record.date is not None and record.date.tzinfo is not None
    assert round(record.date.timestamp() * 1000) == ms
