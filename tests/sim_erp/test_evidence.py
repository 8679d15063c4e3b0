"""The default dialect answers the evidence's exact call shapes as the live ERP did."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import unquote

import httpx

from bff.sim.erp import ErpSim
from bff.sim.erp.data import CARRIERS

Post = Callable[..., Awaitable[httpx.Response]]
Rows = Callable[..., Awaitable[dict[str, Any]]]


async def test_the_real_clients_delivery_lines_call_returns_that_deliverys_lines(call: Post, sim: ErpSim) -> None:
    delivery = sim.data.deliveries[11]
    answer = await call(
        "getBusinessPageList", formId=100041, isColumnForm=True, columns=[], page=0, pageSize=5000, orderby="",
        condition={"parent.id": delivery["id"], "exchangeRate": 1, "category": 1, "salesOrderId": ""}, filters={},
    )
    data = answer.json()["data"]
    mine = [x for x in sim.data.delivery_lines if x["parentId"] == delivery["id"]]
    assert data["_count"] == len(mine) > 0
    assert sorted((r["productName"], r["spec"], r["quantity"]) for r in data["_dataList"]) == sorted(
        (x["productName"], x["spec"], float(x["quantity"])) for x in mine
    )
    assert all(type(r["quantity"]) is float for r in data["_dataList"])  # the live answer: "quantity": 2.0


async def test_condition_keys_that_are_not_context_are_ignored(rows: Rows, sim: ErpSim) -> None:
    everything = len(sim.data.deliveries)
    assert (await rows(100039, condition={"customerOrSupplierId": "41", "category": 1}))["_count"] == everything
    assert (await rows(100001, condition={"customerId": "41", "status": 5}))["_count"] == len(sim.data.orders)
    assert (await rows(100185, condition={"parent.id": "30001"}))["_count"] == len(sim.data.order_lines)  # not 100185's key
    assert (await rows(100004, condition={"form.id": "10001"}))["_count"] == len(sim.data.customers)
    scoped = await rows(100039, filters={"customerOrSupplierId": "41"})  # filters still filter
    assert 0 < scoped["_count"] < everything and {r["customerOrSupplierId"] for r in scoped["_dataList"]} == {"41"}


async def test_guessed_keys_are_ignored_by_default_as_if_absent(rows: Rows, call: Post, sim: ErpSim) -> None:
    """No real client used them (reference, "Evidence"): the default dialect answers every row the
    other filters allow, exactly as without the key."""
    assert (sim.dialect.product_ids, sim.dialect.code_filter, sim.dialect.line_order_filter) == ("ignored",) * 3
    customer = sim.demo_customer.id
    line = sim.data.order_lines[0]
    plain = await rows(100039, filters={"customerOrSupplierId": customer})
    guessed = await rows(100039, condition={"salesOrderProductIds": [line["id"]]}, filters={"customerOrSupplierId": customer})
    assert guessed == plain and plain["_count"] > 1
    order = next(o for o in sim.data.orders if o["customerId"] == customer)
    by_code = await rows(100001, filters={"customerId": customer, "code": [order["code"]]})
    assert by_code == await rows(100001, filters={"customerId": customer}) and by_code["_count"] > 1
    by_order = await rows(100185, filters={"salesOrderId": [order["id"]]})
    assert by_order["_count"] == len(sim.data.order_lines)


async def test_a_refused_guess_answers_success_false(call: Post, sim: ErpSim) -> None:
    sim.set_dialect(product_ids="refused")
    answer = await call("getBusinessPageList", formId=100039, condition={"salesOrderProductIds": ["1"]},
                        columns=[], page=0, pageSize=10, filters={}, orderby="")
    assert answer.json()["success"] is False
    plain = await call("getBusinessPageList", formId=100039, condition={"salesOrderProductIds": None},
                       columns=[], page=0, pageSize=10, filters={}, orderby="")
    assert plain.json()["success"] is True  # the client's own None ("all") is no guess


async def test_deliveries_by_sales_order_line_context(rows: Rows, sim: ErpSim) -> None:
    """Where the dialect honours the guessed context: the deliveries carrying those lines."""
    sim.set_dialect(product_ids="honoured")
    assert sim.dialect.line_links == "absent"  # the context needs no link field in the answers
    carriers: dict[str, set[str]] = {}
    for item in sim.data.delivery_lines:
        carriers.setdefault(item["salesOrderLineId"], set()).add(item["parentId"])
    line_id, deliveries = next((k, v) for k, v in carriers.items() if len(v) >= 2)
    found = await rows(100039, condition={"salesOrderProductIds": [line_id]})
    assert {r["id"] for r in found["_dataList"]} == deliveries
    other_id, others = next((k, v) for k, v in carriers.items() if not v & deliveries)
    both = await rows(100039, condition={"salesOrderProductIds": [int(line_id), other_id], "customerOrSupplierId": "x"})
    assert {r["id"] for r in both["_dataList"]} == deliveries | others
    assert (await rows(100039, condition={"salesOrderProductIds": []}))["_count"] == 0


async def test_page_size_ten_thousand_as_the_client_asked(call: Post, sim: ErpSim) -> None:
    answer = await call("getBusinessPageList", formId=100185, columns=[], page=0, pageSize=10000, filters={}, orderby="id asc")
    assert answer.json()["data"]["_count"] == len(answer.json()["data"]["_dataList"]) == len(sim.data.order_lines)


async def test_detail_attachments_are_a_list_of_path_size_and_name(call: Post, sim: ErpSim) -> None:
    """Evidence: ``"attachments": ["35/xxx/xxx#size=...&name=..."]`` in getBusiness of 100039."""
    delivery = next(d for d in sim.data.deliveries if len(d["attachments"]) == 2)
    sent = (await call("getBusiness", formId=100039, id=delivery["id"])).json()["data"]["attachments"]
    assert isinstance(sent, list) and len(sent) == 2
    for entry in sent:
        assert re.fullmatch(r"35/[0-9a-f]{24}/[0-9a-f]{32}#(size=\d+&name=[^&#\s]+|name=[^&#\s]+&size=\d+)", entry), entry
        fields = dict(pair.split("=", 1) for pair in entry.partition("#")[2].split("&"))
        assert int(fields["size"]) > 0 and re.search(r"\.(pdf|png|jpe?g|xlsx)$", unquote(fields["name"]))


def test_seeded_deliveries_show_what_the_evidence_shows(sim: ErpSim) -> None:
    deliveries = sim.data.deliveries
    packed = [d for d in deliveries if d["已出库"] and not d["是否发货"]]
    assert packed and all(not d["logisticsCode"] and d["logisticsCompanyId"] is None for d in packed)
    dispatched = [d for d in deliveries if d["是否发货"]]
    assert all(d["已出库"] and d["logisticsCode"] and d["logisticsCompanyId"] and d["发货日期"] for d in dispatched)
    routed = [d for d in dispatched if d["remark"].partition("-")[0] in CARRIERS and d["remark"].partition("-")[2]]
    assert 0.3 < len(routed) / len(dispatched) < 0.7  # "金通物流-青田白帆": carrier and route
    several = [d for d in deliveries if "," in d["orderCodes"]]
    assert several and all(len(d["salesOrderIds"].split(",")) == len(d["orderCodes"].split(",")) for d in several)
    assert all(d["salesOrderId"] and d["salesOrderCode"] and d["customerOrSupplierId"] for d in deliveries)


def test_the_demo_customer_has_every_situation(sim: ErpSim) -> None:
    demo = sim.demo_customer.id
    shipments: dict[str, list[dict[str, Any]]] = {}
    for d in sim.data.deliveries:
        for order_id in d["salesOrderIds"].split(","):
            shipments.setdefault(order_id, []).append(d)
    seen: Counter[str] = Counter()
    for o in (o for o in sim.data.orders if o["customerId"] == demo):
        mine = shipments.get(o["id"], [])
        sent = [d for d in mine if d["是否发货"]]
        seen["not started"] += o["status"] == 1
        seen["producing"] += o["status"] == 2 and o["produced"] > 0 and not mine
        seen["packed, not dispatched"] += bool(mine) and not sent
        seen["partly dispatched"] += o["status"] == 2 and bool(sent) and o["shippedRate"] < 1
        seen["fully dispatched, open"] += o["status"] == 2 and bool(sent) and o["shippedRate"] == 1
        seen["completed"] += o["status"] == 4
        seen["cancelled"] += o["status"] == 5
        seen["several orders in one delivery"] += any("," in d["orderCodes"] for d in sent)
    assert all(seen[k] for k in (
        "not started", "producing", "packed, not dispatched", "partly dispatched", "fully dispatched, open",
        "completed", "cancelled", "several orders in one delivery",
    )), seen
