"""The /__sim control API: counters, injected faults, run-time order changes."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from bff.sim.erp import ErpSim
from bff.web.serving import RunningServer

LIST = "/business/getBusinessPageList"
Post = Callable[..., Awaitable[httpx.Response]]
Login = Callable[[httpx.AsyncClient, str, str], Awaitable[dict[str, str]]]


async def faults(raw: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    answer = await raw.post("/__sim/faults", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_counters_count_protocol_calls_only(raw: httpx.AsyncClient, call: Post) -> None:
    stats = (await raw.get("/__sim/stats")).json()
    assert stats["logins"] == 1 and stats["total"] == 3  # login, open-app, app index
    await call("getBusinessPageList", formId=100001, page=0, pageSize=1)
    await call("getBusiness", formId=100185, id="20001")
    await raw.get("/__sim/demo")
    stats = (await raw.get("/__sim/stats")).json()
    assert stats["total"] == 5 and stats["endpoints"][LIST] == 1 and stats["endpoints"]["/business/getBusiness"] == 1
    assert stats["forms"] == {"100001": 1, "100185": 1}
    last = stats["calls"][-1]
    assert (last["endpoint"], last["formId"]) == ("/business/getBusiness", 100185)
    reset = (await raw.post("/__sim/stats/reset")).json()
    assert reset["total"] == 0 and reset["calls"] == []


async def test_each_call_says_when_it_started_and_was_answered(raw: httpx.AsyncClient, call: Post) -> None:
    """The timeline bench/roundtrips.py counts sequential round trips on: a call made after another
    was answered starts after that one's end; two calls sent together overlap."""
    await faults(raw, latency_ms=50)
    await raw.post("/__sim/stats/reset")
    await call("getBusinessPageList", formId=100001, page=0, pageSize=1)
    await asyncio.gather(*(call("getBusinessPageList", formId=100185, page=0, pageSize=1) for _ in range(2)))
    first, *together = (await raw.get("/__sim/stats")).json()["calls"]
    assert all(c["start"] < c["end"] for c in (first, *together))
    assert all(first["end"] <= c["start"] for c in together)
    assert together[0]["start"] < together[1]["end"] and together[1]["start"] < together[0]["end"]


async def test_demo_facts(raw: httpx.AsyncClient, sim: ErpSim, erp_login: Login) -> None:
    demo = (await raw.get("/__sim/demo")).json()
    assert demo["customer"]["invite_code"] == sim.demo_customer.invite_code
    assert demo["service"] == {"account": "13900000000", "password": "svc-demo-password"}
    assert demo["admin"]["account"] == "13800000000"
    await erp_login(raw, demo["customer"]["account"], demo["customer"]["password"])
    assert demo["other_customer"]["id"] != demo["customer"]["id"] and demo["other_customer"]["invite_code"]


async def test_error_rate_answers_html_500(raw: httpx.AsyncClient, call: Post) -> None:
    await faults(raw, error_rate=1.0)
    answer = await call("getBusiness", formId=100001, id="10001")
    assert answer.status_code == 500 and answer.headers["content-type"].startswith("text/html")


async def test_error_rate_is_a_rate(raw: httpx.AsyncClient, call: Post) -> None:
    await faults(raw, error_rate=0.5)
    codes = [(await call("getBusiness", formId=100001, id="10001")).status_code for _ in range(40)]
    assert 5 < codes.count(500) < 35 and codes.count(200) == 40 - codes.count(500)


async def test_malformed_answers_truncated_json(raw: httpx.AsyncClient, call: Post) -> None:
    await faults(raw, malformed_rate=1.0)
    answer = await call("getBusinessPageList", formId=100001, page=0, pageSize=5)
    assert answer.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(answer.content)


async def test_malformed_rate_one_breaks_every_business_read(
    raw: httpx.AsyncClient, call: Post, cookies: dict[str, str], sim: ErpSim
) -> None:
    """What a "the check must fail" test relies on: not one read gives usable data."""
    file_url = f"/business/file/SnowInventory-82886/{next(iter(sim.data.files))}"
    session = {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
    good_file = (await raw.get(file_url, headers=session)).content
    await faults(raw, malformed_rate=1.0)
    answers = [
        await call("getBusinessPageList", formId=100001, page=0, pageSize=1),
        await call("getBusinessPageList", formId=100041, page=0, pageSize=1, condition={"parent.id": "30001"}),
        await call("getBusiness", formId=100039, id="30001"),
        await call("getDatasource", formId=100039, datasourceId=100292, colId=110673, page=0, pageSize=10),
    ]
    for answer in answers:
        assert answer.status_code == 200
        with pytest.raises(json.JSONDecodeError):
            json.loads(answer.content)
    broken = await raw.get(file_url, headers=session)
    assert broken.status_code == 200 and broken.content != good_file


async def test_outage_answers_503_at_once_even_for_login(raw: httpx.AsyncClient, call: Post) -> None:
    await faults(raw, outage=True, latency_ms=2000)
    started = time.monotonic()
    assert (await call("getBusiness", formId=100001, id="10001")).status_code == 503
    assert (await raw.post("/apps/service/login", json={})).status_code == 503
    assert time.monotonic() - started < 1.0
    await raw.post("/__sim/faults/reset")
    assert (await call("getBusiness", formId=100001, id="10001")).status_code == 200


async def test_hang_outlasts_a_client_timeout(raw: httpx.AsyncClient, server: RunningServer) -> None:
    await faults(raw, hang_s=1.0)
    async with httpx.AsyncClient(base_url=server.url) as client:  # a real socket: ASGITransport has no timeouts
        with pytest.raises(httpx.ReadTimeout):
            await client.post("/business/getBusiness", json={}, timeout=0.3)
    assert (await raw.post("/__sim/faults/reset")).status_code == 200  # ends the hang: the server stops at once


async def test_reset_ends_a_hang_at_once(raw: httpx.AsyncClient, sim: ErpSim) -> None:
    await faults(raw, hang_s=60)
    hanging = asyncio.ensure_future(raw.post("/apps/service/login", json={}))
    deadline = time.monotonic() + 10
    while sim.stats_snapshot()["total"] < 1 and time.monotonic() < deadline:
        await asyncio.sleep(0.01)  # until the request is in the simulator
    assert not hanging.done()
    assert (await raw.post("/__sim/faults/reset")).status_code == 200
    answer = await asyncio.wait_for(hanging, 10)  # far less than the 60 s hang
    assert answer.status_code in (200, 400, 401), answer.text


async def test_latency_with_jitter(raw: httpx.AsyncClient, call: Post) -> None:
    await faults(raw, latency_ms=150, latency_jitter_ms=50)
    started = time.monotonic()
    assert (await call("getBusiness", formId=100001, id="10001")).status_code == 200
    assert 0.09 < time.monotonic() - started < 1.0


async def test_fail_next_then_recover(raw: httpx.AsyncClient, call: Post) -> None:
    assert (await faults(raw, fail_next=2))["fail_next"] == 2
    codes = [(await call("getBusiness", formId=100001, id="10001")).status_code for _ in range(3)]
    assert codes == [502, 502, 200]
    assert (await raw.get("/__sim/faults")).json()["fail_next"] == 0


async def test_faults_restricted_to_paths(raw: httpx.AsyncClient, call: Post) -> None:
    await faults(raw, error_rate=1.0, paths=[LIST])
    assert (await call("getBusiness", formId=100001, id="10001")).status_code == 200
    assert (await call("getBusinessPageList", formId=100001, page=0, pageSize=1)).status_code == 500
    await faults(raw, error_rate=1.0, paths=["/business/file"])
    assert (await raw.get("/business/file/SnowInventory-82886/img/p501.png")).status_code == 500


async def test_fault_api_misuse_and_reset(raw: httpx.AsyncClient) -> None:
    assert (await raw.post("/__sim/faults", json={"explode": True})).status_code == 400
    assert (await raw.post("/__sim/faults", json={"error_rate": 2})).status_code == 400
    await faults(raw, outage=True)
    reset = (await raw.post("/__sim/faults/reset")).json()
    assert reset["outage"] is False and reset["paths"] == []


async def order_change(raw: httpx.AsyncClient, order_id: str, **body: Any) -> dict[str, Any]:
    answer = await raw.post(f"/__sim/orders/{order_id}", json=body)
    assert answer.status_code == 200, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def test_produce_then_ship_creates_a_delivery(raw: httpx.AsyncClient, call: Post, sim: ErpSim) -> None:
    order = next(o for o in sim.data.orders if o["status"] == 1)
    assert (await raw.post(f"/__sim/orders/{order['id']}", json={"action": "ship"})).status_code == 400  # nothing made yet
    produced = await order_change(raw, order["id"], action="produce")
    assert produced["producedRate"] == 1.0 and produced["status"] == 2 and produced["shippedRate"] == 0
    shipped = await order_change(raw, order["id"], action="ship")
    assert shipped["shippedRate"] == 1.0
    listed = (await call("getBusinessPageList", formId=100039, page=0, pageSize=10, filters={"systemFulltext": order["code"]})).json()
    delivery = listed["data"]["_dataList"][0]
    assert listed["data"]["_count"] == 1 and delivery["是否发货"] is True and delivery["logisticsCode"]
    assert abs(delivery["发货日期"] - time.time() * 1000) < 60_000
    detail = (await call("getBusiness", formId=100039, id=delivery["id"])).json()["data"]
    assert detail["logisticsCompanyId"] in {c["id"] for c in sim.data.logistics}
    items = (await call("getBusinessPageList", formId=100041, condition={"parent.id": delivery["id"]}, page=0, pageSize=50)).json()
    assert sum(i["quantity"] for i in items["data"]["_dataList"]) == order["quantity"]
    lines = (await call("getBusinessPageList", formId=100185, condition={"form.id": order["id"]}, page=0, pageSize=50)).json()
    assert all(x["shippedQuantity"] == x["quantity"] and x["stockOutDate"] for x in lines["data"]["_dataList"])


async def test_complete_cancel_and_raw_status(raw: httpx.AsyncClient, call: Post, sim: ErpSim) -> None:
    order_id = next(o["id"] for o in sim.data.orders if o["status"] == 2)
    assert (await order_change(raw, order_id, action="complete"))["status"] == 4
    assert (await order_change(raw, order_id, action="cancel"))["status"] == 5
    assert (await order_change(raw, order_id, status=3))["status"] == 3
    updated = (await call("updateBusiness", formId=100001, action=2, id=order_id, data={"status": 2})).json()
    assert updated["data"]["status"] == 2
    assert (await call("getBusiness", formId=100001, id=order_id)).json()["data"]["status"] == 2


async def test_order_change_misuse(raw: httpx.AsyncClient) -> None:
    assert (await raw.post("/__sim/orders/1", json={"action": "complete"})).status_code == 404
    assert (await raw.post("/__sim/orders/10001", json={"action": "explode"})).status_code == 400
    assert (await raw.post("/__sim/orders/10001", json={"status": "4"})).status_code == 400
