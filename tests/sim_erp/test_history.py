"""POST /__sim/history (older deliveries for a customer, bench/roundtrips.py) and the byte counter of /__sim/stats."""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable
from typing import Any

import httpx

from bff.sim.erp import ErpSim

Rows = Callable[..., Awaitable[dict[str, Any]]]
Post = Callable[..., Awaitable[httpx.Response]]
ORDERS, ORDER_LINES, DELIVERIES, DELIVERY_LINES = 100001, 100185, 100039, 100041


async def test_history_adds_older_linked_deliveries(raw: httpx.AsyncClient, rows: Rows, sim: ErpSim) -> None:
    before = await rows(DELIVERIES, filters={"customerOrSupplierId": "41"}, pageSize=20000)
    oldest = min(d["date"] for d in before["_dataList"])
    other = (await rows(DELIVERIES, filters={"customerOrSupplierId": "36"}))["_count"]

    answer = await raw.post("/__sim/history", json={"customer": "41", "deliveries": 86})
    assert answer.status_code == 200, answer.text
    added = answer.json()
    assert added["deliveries"] == before["_count"] + 86 and added["added"]["deliveries"] == 86

    after = await rows(DELIVERIES, filters={"customerOrSupplierId": "41"}, pageSize=20000)
    assert after["_count"] == before["_count"] + 86
    assert (await rows(DELIVERIES, filters={"customerOrSupplierId": "36"}))["_count"] == other  # no one else's
    known = {d["id"] for d in before["_dataList"]}
    new = [d for d in after["_dataList"] if d["id"] not in known]
    assert all(d["date"] < oldest and d["是否发货"] and d["logisticsCode"] for d in new)
    assert max(int(d["id"]) for d in new) < min(int(i) for i in known)  # made earlier: smaller ids

    # Order links: each new delivery's lines ship lines of its (completed, fully shipped) order.
    order_ids = {d["salesOrderId"] for d in new}
    orders = (await rows(ORDERS, filters={"id": sorted(order_ids)}))["_dataList"]
    assert len(orders) == len(order_ids) == added["added"]["orders"]
    assert all(o["customerId"] == "41" and o["status"] == 4 and o["shippedRate"] == 1 for o in orders)
    order_lines = (await rows(ORDER_LINES, condition={"form.id": sorted(order_ids)}))["_dataList"]
    shipped: Counter[str] = Counter()
    for line in sim.data.delivery_lines:
        if line["parentId"] in {d["id"] for d in new}:
            assert sim.forms[ORDER_LINES][line["salesOrderLineId"]]["salesOrderId"] == sim.forms[DELIVERIES][line["parentId"]]["salesOrderId"]
            shipped[line["salesOrderLineId"]] += line["quantity"]
    assert {line["id"]: line["quantity"] for line in order_lines} == dict(shipped)

    # The evidenced context finds them by their order lines; their lines are readable by parent.
    await raw.post("/__sim/dialect", json={"product_ids": "honoured"})
    carrying = await rows(DELIVERIES, condition={"salesOrderProductIds": [order_lines[0]["id"]]},
                          filters={"customerOrSupplierId": "41"})
    assert carrying["_count"] >= 1 and {d["id"] for d in carrying["_dataList"]} <= {d["id"] for d in new}
    lines = await rows(DELIVERY_LINES, condition={"parent.id": carrying["_dataList"][0]["id"]})
    assert lines["_count"] >= 1


async def test_history_is_reproducible_and_checked(raw: httpx.AsyncClient, sim: ErpSim) -> None:
    first = (await raw.post("/__sim/history", json={"customer": "36", "deliveries": 50})).json()
    again = ErpSim(sim.config)
    assert again.add_history("36", 50) == first
    assert [d["code"] for d in again.data.deliveries] == [d["code"] for d in sim.data.deliveries]
    codes = [o["code"] for o in sim.forms[ORDERS].values()]
    assert len(codes) == len(set(codes))
    for body in ({"customer": "999", "deliveries": 5}, {"customer": "36", "deliveries": 0},
                 {"customer": "36", "deliveries": "5"}, {"deliveries": 5}, {"customer": "36"}):
        answer = await raw.post("/__sim/history", json=body)
        assert answer.status_code == 400 and answer.json()["error"], body


async def test_stats_count_answer_bytes(raw: httpx.AsyncClient, call: Post, cookies: dict[str, str], sim: ErpSim) -> None:
    await raw.post("/__sim/stats/reset")
    listed = await call("getBusinessPageList", formId=ORDERS, page=0, pageSize=3)
    path = next(iter(sim.data.files))
    file = await raw.get(f"/business/file/SnowInventory-82886/{path}",
                         headers={"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())})
    await raw.get("/__sim/demo")  # control calls are not counted
    stats = (await raw.get("/__sim/stats")).json()
    assert stats["bytes"] == len(listed.content) + len(file.content) > 0
    assert (await raw.post("/__sim/stats/reset")).json()["bytes"] == 0
