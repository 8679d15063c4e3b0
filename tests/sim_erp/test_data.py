"""The seeded records: realistic, consistent with each other, and the same for the same seed."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict

from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp.data import INVITE_ALPHABET


def test_generation_is_fast() -> None:
    started = time.perf_counter()
    ErpSim()
    assert time.perf_counter() - started < 0.5


def test_same_seed_same_data_other_seed_other_data() -> None:
    a, b, c = ErpSim(), ErpSim(), ErpSim(ErpSimConfig(seed=7))
    assert a.forms == b.forms and a.demo_info() == b.demo_info()
    assert a.data.orders != c.data.orders
    assert a.demo_customer.invite_code != c.demo_customer.invite_code


def test_customers_and_accounts(sim: ErpSim) -> None:
    customers = sim.data.customers
    assert len(customers) >= 4 and sum(c["disable"] for c in customers) == 1
    codes = [c["微信邀请码"] for c in customers]
    assert len(set(codes)) == len(codes)
    assert all(len(code) == 8 and set(code) <= set(INVITE_ALPHABET) for code in codes)
    for c in customers:
        assert re.fullmatch(r"\d+", c["id"]) and c["code"] == f"KH{int(c['id']):04d}"
        assert sim.accounts[c["mobile"]] == f"demo-{c['code']}" and re.fullmatch(r"1\d{10}", c["mobile"])
    assert sim.accounts["13900000000"] == "svc-demo-password" and sim.accounts["13800000000"] == "admin-demo-password"
    demo = sim.demo_customer
    assert demo.id == customers[0]["id"] and demo.invite_code == customers[0]["微信邀请码"]
    assert sim.demo_info()["other_customer"]["id"] != demo.id


def test_orders_spread_and_statuses(sim: ErpSim) -> None:
    orders = sim.data.orders
    assert len(orders) >= 300
    statuses = Counter(o["status"] for o in orders)
    assert set(statuses) == {1, 2, 4, 5}  # the evidenced ones; statuses=unknown adds others
    share = sum(o["customerId"] == sim.demo_customer.id for o in orders) / len(orders)
    assert 0.3 < share < 0.5
    for o in orders:
        assert re.fullmatch(r"SO20(25|26)\d{4}\d{2}", o["code"]) and o["deliveryDate"] > o["date"]
        assert re.fullmatch(r"1\d{10}", o["shipmentMobile"])
    assert len({o["code"] for o in orders}) == len(orders)


def test_lines_consistent_with_order(sim: ErpSim) -> None:
    lines = defaultdict(list)
    for line in sim.data.order_lines:
        lines[line["salesOrderId"]].append(line)
    for o in sim.data.orders:
        mine = lines[o["id"]]
        assert 1 <= len(mine) <= 8
        assert o["amount"] == round(sum(x["amount"] for x in mine), 2) == o["rmbAmount"]
        assert o["quantity"] == sum(x["quantity"] for x in mine)
        assert o["produced"] == sum(x["producedQuantity"] for x in mine)
        assert o["shippedRate"] == round(sum(x["shippedQuantity"] for x in mine) / o["quantity"], 4)
        for x in mine:
            assert 0 <= x["shippedQuantity"] <= x["producedQuantity"] <= x["quantity"]
            assert x["unProducedQuantity"] == x["quantity"] - x["producedQuantity"]
            assert x["unitId"] in {"个", "件", "套", "米", "公斤"}
        if o["status"] == 1:
            assert o["produced"] == 0 and o["shippedRate"] == 0
        if o["status"] == 4:
            assert o["producedRate"] == o["shippedRate"] == 1.0


def test_deliveries_add_up_to_shipped_quantities(sim: ErpSim) -> None:
    shipped: Counter[str] = Counter()
    per_delivery: Counter[str] = Counter()
    for item in sim.data.delivery_lines:
        shipped[item["salesOrderLineId"]] += item["quantity"]
        per_delivery[item["parentId"]] += 1
    for line in sim.data.order_lines:
        assert shipped[line["id"]] == line["shippedQuantity"]
        assert (line["stockOutDate"] is not None) == (line["shippedQuantity"] > 0)
    deliveries = sim.data.deliveries
    assert all(per_delivery[d["id"]] > 0 for d in deliveries)
    multi = [d for d in deliveries if "," in d["orderCodes"]]
    assert 0.05 * len(deliveries) < len(multi) < 0.2 * len(deliveries)
    by_id = {o["id"]: o for o in sim.data.orders}
    for d in multi:
        customers = {by_id[i]["customerId"] for i in d["salesOrderIds"].split(",")}
        assert customers == {d["customerOrSupplierId"]}
        assert d["orderCodes"].split(",")[0] == d["salesOrderCode"]
    shipments_per_order = Counter(i for d in deliveries for i in d["salesOrderIds"].split(","))
    assert any(n >= 2 for n in shipments_per_order.values())  # shipped partially over several deliveries
    partial = [o for o in sim.data.orders if 0 < o["shippedRate"] < 1]
    assert partial
    amounts: Counter[str] = Counter()
    for item in sim.data.delivery_lines:
        amounts[item["parentId"]] += item["amount"]
    assert all(abs(amounts[d["id"]] - d["amount"]) < 0.01 for d in deliveries)
    pending = [d for d in deliveries if not d["是否发货"]]
    assert 0 < len(pending) < 10 and all(not d["logisticsCode"] for d in pending)
    assert all(d["logisticsCompanyId"] and d["logisticsCode"] for d in deliveries if d["是否发货"])
    assert any(d["attachments"] for d in deliveries) and any(not d["attachments"] for d in deliveries)
    assert all(re.fullmatch(r"XSCK\d{10}", d["code"]) for d in deliveries)
