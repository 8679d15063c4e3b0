"""The ERP protocol as the BFF sees it: login, sessions, lists, records, files."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp.state import sha1_hex

APP = "SnowInventory-82886"
Post = Callable[..., Awaitable[httpx.Response]]
Rows = Callable[..., Awaitable[dict[str, Any]]]
Login = Callable[[httpx.AsyncClient, str, str], Awaitable[dict[str, str]]]


def jar(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}
EXPIRED = {"success": False, "errorCode": "SESSION_EXPIRED", "message": "登录已过期，请重新登录"}


async def test_three_step_login_gives_a_working_application_session(raw: httpx.AsyncClient, sim: ErpSim, erp_login: Login) -> None:
    demo = sim.demo_customer
    answer = await raw.post(
        "/apps/service/login", json={"state": True, "account": demo.account, "token": "", "password": sha1_hex(demo.password)}
    )
    assert answer.json()["data"]["account"] == demo.account and answer.json()["data"]["userName"]
    assert {"JSESSIONID", "sid"} <= set(answer.cookies)
    cookies = await erp_login(raw, demo.account, demo.password)
    assert cookies["JSESSIONID"] != answer.cookies["JSESSIONID"]  # the application session is a new one
    listed = await raw.post(
        "/business/getBusinessPageList", json={"appName": APP, "formId": 100004, "page": 0, "pageSize": 1}, headers=jar(cookies)
    )
    assert listed.status_code == 200 and listed.json()["data"]["_count"] == len(sim.data.customers)


@pytest.mark.parametrize("password", [sha1_hex("wrong"), "svc-demo-password", sha1_hex("svc-demo-password").upper()])
async def test_bad_password_is_refused_without_cookies(raw: httpx.AsyncClient, password: str) -> None:
    answer = await raw.post("/apps/service/login", json={"state": True, "account": "13900000000", "token": "", "password": password})
    assert answer.status_code == 200
    assert answer.json() == {"success": False, "message": "账号或密码错误"}
    assert "set-cookie" not in answer.headers


async def test_open_app_with_unknown_sid_redirects_to_login(raw: httpx.AsyncClient) -> None:
    answer = await raw.get("/apps/user/open-app/82886", headers=jar({"sid": "nope"}))
    assert answer.status_code == 302 and answer.headers["location"] == "/apps/login"
    index = await raw.get("/apps/app/82886/index", headers=jar({"sid": "nope"}))
    assert index.status_code == 302 and "set-cookie" not in index.headers


async def test_redirects_followed_by_a_cookie_keeping_client(server: Any) -> None:
    async with httpx.AsyncClient(base_url=server.url, follow_redirects=True) as client:
        first = await client.post(
            "/apps/service/login",
            json={"state": True, "account": "13800000000", "token": "", "password": sha1_hex("admin-demo-password")},
        )
        platform = first.cookies["JSESSIONID"]
        opened = await client.get("/apps/user/open-app/82886")
        assert opened.status_code == 200 and [r.status_code for r in opened.history] == [302]
        assert client.cookies["JSESSIONID"] != platform
        answer = await client.post("/business/getBusiness", json={"appName": APP, "formId": 100004, "id": "36"})
        assert answer.json()["data"]["code"] == "KH0036"


async def test_business_calls_need_both_session_cookies(raw: httpx.AsyncClient, cookies: dict[str, str]) -> None:
    body = {"appName": APP, "formId": 100001, "page": 0, "pageSize": 1}
    for sent in ({}, {"sid": cookies["sid"]}, {"JSESSIONID": cookies["JSESSIONID"]}, {**cookies, "sid": "other"}):
        answer = await raw.post("/business/getBusinessPageList", json=body, headers=jar(sent))
        assert answer.status_code == 401 and answer.json() == EXPIRED, sent
    assert (await raw.post("/business/getBusinessPageList", json=body, headers=jar(cookies))).status_code == 200


@pytest.mark.parametrize("sim_config", [ErpSimConfig(session_idle_s=0.2, orders=20)])
async def test_idle_session_expires_and_use_keeps_it_alive(raw: httpx.AsyncClient, cookies: dict[str, str], sim: ErpSim) -> None:
    now = [time.monotonic()]  # the simulator's clock from here on, moved by the test (the login was just now)
    sim.clock = lambda: now[0]
    body = {"appName": APP, "formId": 100004, "id": "36"}
    for _ in range(4):  # 0.4 s in all, but never 0.2 s idle
        now[0] += 0.1
        assert (await raw.post("/business/getBusiness", json=body, headers=jar(cookies))).status_code == 200
    now[0] += 0.3
    answer = await raw.post("/business/getBusiness", json=body, headers=jar(cookies))
    assert answer.status_code == 401 and answer.json() == EXPIRED
    opened = await raw.get("/apps/user/open-app/82886", headers=jar({"sid": cookies["sid"]}))
    assert opened.headers["location"] == "/apps/login"


async def test_sessions_expire_on_demand(raw: httpx.AsyncClient, call: Post) -> None:
    assert (await call("getBusiness", formId=100004, id="36")).status_code == 200
    assert (await raw.post("/__sim/sessions/expire")).status_code == 200
    answer = await call("getBusiness", formId=100004, id="36")
    assert answer.status_code == 401 and answer.json()["errorCode"] == "SESSION_EXPIRED"


async def test_paging_counts_from_zero_newest_first(rows: Rows, sim: ErpSim) -> None:
    first = await rows(100001, page=0, pageSize=50)
    second = await rows(100001, page=1, pageSize=50)
    ids = [int(r["id"]) for r in first["_dataList"] + second["_dataList"]]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 100
    assert ids[0] == max(int(i) for i in sim.forms[100001])
    assert first["_count"] == second["_count"] == len(sim.data.orders)
    beyond = await rows(100001, page=100, pageSize=50)
    assert beyond["_dataList"] == [] and beyond["_count"] == len(sim.data.orders)


async def test_page_size_limit(call: Post, sim: ErpSim) -> None:
    for size in (5000, 10000, 20000):  # the evidence's client asked for 5000 and 10000
        answer = (await call("getBusinessPageList", formId=100185, page=0, pageSize=size)).json()
        assert answer["success"] is True and len(answer["data"]["_dataList"]) == min(size, len(sim.data.order_lines))
    refused = await call("getBusinessPageList", formId=100185, page=0, pageSize=20001)
    assert refused.status_code == 200 and refused.json() == {"success": False, "message": "每页条数须在1到20000之间"}


async def test_sum_covers_all_matches_not_only_the_page(rows: Rows, sim: ErpSim) -> None:
    data = await rows(100001, page=0, pageSize=5, filters={"customerId": "36"})
    expected = round(sum(o["amount"] for o in sim.data.orders if o["customerId"] == "36"), 2)
    assert data["_sum"]["amount"] == pytest.approx(expected)
    assert data["_sum"]["quantity"] == sum(o["quantity"] for o in sim.data.orders if o["customerId"] == "36")


async def test_columns_select_fields_and_id_is_always_there(rows: Rows) -> None:
    data = await rows(100001, page=0, pageSize=3, columns=["code", "status"])
    assert all(set(r) == {"id", "code", "status"} for r in data["_dataList"])
    full = await rows(100001, page=0, pageSize=1, columns=[])
    assert {"customerOrderCode", "shipmentAddress", "producedRate"} <= set(full["_dataList"][0])


async def test_logistics_company_in_detail_only_by_default(rows: Rows, call: Post, sim: ErpSim) -> None:
    plain = (await rows(100039, page=0, pageSize=50))["_dataList"]
    asked = (await rows(100039, page=0, pageSize=50, columns=["code", "logisticsCompanyId"]))["_dataList"]
    assert plain and all("logisticsCompanyId" not in r for r in plain + asked)
    dispatched = next(d for d in sim.data.deliveries if d["是否发货"])
    detail = (await call("getBusiness", formId=100039, id=dispatched["id"])).json()["data"]
    assert detail["logisticsCompanyId"] == dispatched["logisticsCompanyId"] and "发货日期" in detail


async def test_filters_take_lists_and_compare_as_strings(rows: Rows, sim: ErpSim) -> None:
    data = await rows(100001, filters={"status": [1, 5], "customerId": 36})
    assert data["_count"] == sum(1 for o in sim.data.orders if o["status"] in (1, 5) and o["customerId"] == "36") > 0
    assert {r["status"] for r in data["_dataList"]} == {1, 5}
    picked = await rows(100001, filters={"id": ["10001", 10002]})
    assert sorted(r["id"] for r in picked["_dataList"]) == ["10001", "10002"]
    invite = sim.demo_customer.invite_code
    customers = await rows(100004, filters={"微信邀请码": invite})
    assert [c["id"] for c in customers["_dataList"]] == [sim.demo_customer.id]


async def test_fulltext_search_is_case_insensitive_over_text_fields(rows: Rows, sim: ErpSim) -> None:
    order = sim.data.orders[7]
    by_code = await rows(100001, filters={"systemFulltext": order["code"].lower()})
    assert [r["id"] for r in by_code["_dataList"]] == [order["id"]]
    po = await rows(100001, filters={"systemFulltext": order["customerOrderCode"]})
    assert order["id"] in {r["id"] for r in po["_dataList"]}
    shipped = next(d for d in sim.data.deliveries if d["logisticsCode"])
    found = await rows(100039, filters={"systemFulltext": shipped["logisticsCode"]})
    assert [r["id"] for r in found["_dataList"]] == [shipped["id"]]
    lines = await rows(100185, filters={"systemFulltext": "6204-2rs"})
    assert lines["_count"] > 0 and all(r["spec"] == "6204-2RS" for r in lines["_dataList"])
    assert (await rows(100001, filters={"systemFulltext": "没有这种订单"}))["_count"] == 0


async def test_condition_parent_context(rows: Rows, sim: ErpSim) -> None:
    order = sim.data.orders[3]
    lines = await rows(100185, condition={"form.id": int(order["id"])})
    assert {r["salesOrderId"] for r in lines["_dataList"]} == {order["id"]}
    assert lines["_count"] == len(sim.lines_of(order["id"]))
    other = sim.data.orders[4]
    both = await rows(100185, condition={"form.id": [order["id"], other["id"]]})  # a list: any of them (a guess)
    assert both["_count"] == len(sim.lines_of(order["id"])) + len(sim.lines_of(other["id"]))
    delivery = sim.data.deliveries[5]
    items = await rows(100041, condition={"parent.id": delivery["id"]}, isColumnForm=True)
    carried = [x for x in sim.data.delivery_lines if x["parentId"] == delivery["id"]]
    assert items["_count"] == len(carried) > 0
    assert sorted(r["id"] for r in items["_dataList"]) == sorted(x["id"] for x in carried)


async def test_orderby_field_ascending(rows: Rows) -> None:
    data = await rows(100001, page=0, pageSize=5000, orderby="amount asc")
    amounts = [r["amount"] for r in data["_dataList"]]
    assert amounts == sorted(amounts)
    dated = [r["date"] for r in (await rows(100001, orderby="date desc"))["_dataList"]]
    assert dated == sorted(dated, reverse=True)


async def test_unknown_form_or_app(call: Post) -> None:
    assert (await call("getBusinessPageList", formId=123, page=0, pageSize=1)).json() == {"success": False, "message": "表单不存在"}
    wrong_app = await call("getBusinessPageList", appName="Other-1", formId=100001, page=0, pageSize=1)
    assert wrong_app.status_code == 200 and wrong_app.json()["success"] is False


async def test_get_business(call: Post, sim: ErpSim) -> None:
    order = sim.data.orders[0]
    found = (await call("getBusiness", formId=100001, id=int(order["id"]))).json()
    assert found == {"success": True, "data": order}
    missing = (await call("getBusiness", formId=100001, id="99999999")).json()
    assert missing == {"success": False, "message": "记录不存在"}


async def test_update_business(call: Post, sim: ErpSim) -> None:
    order = sim.data.orders[1]
    answer = (await call("updateBusiness", formId=100001, action=2, id=order["id"], data={"remark": "改过了", "id": "1"})).json()
    assert answer["success"] is True and answer["data"]["remark"] == "改过了" and answer["data"]["id"] == order["id"]
    assert (await call("getBusiness", formId=100001, id=order["id"])).json()["data"]["remark"] == "改过了"
    refused = (await call("updateBusiness", formId=100001, action=1, id=order["id"], data={"remark": "x"})).json()
    assert refused["success"] is False and sim.forms[100001][order["id"]]["remark"] == "改过了"


async def test_updating_a_line_recomputes_its_order(call: Post, sim: ErpSim) -> None:
    order = next(o for o in sim.data.orders if o["status"] == 1)
    line = sim.lines_of(order["id"])[0]
    await call("updateBusiness", formId=100185, action=2, id=line["id"], data={"producedQuantity": line["quantity"]})
    fresh = (await call("getBusiness", formId=100001, id=order["id"])).json()["data"]
    assert fresh["produced"] == line["quantity"] and fresh["producedRate"] > 0


async def test_logistics_datasource(call: Post) -> None:
    body = {"formId": 100039, "datasourceId": 100292, "colId": 110673, "columns": [], "filters": {}, "page": 0,
            "pageSize": 100, "orderby": "id asc", "isNonfilter": True}
    data = (await call("getDatasource", **body)).json()["data"]
    names = [r["name"] for r in data["_dataList"]]
    assert data["_count"] == 8 and "顺丰速运" in names and all(set(r) == {"id", "name"} for r in data["_dataList"])
    one = (await call("getDatasource", **{**body, "filters": {"systemFulltext": "德邦"}})).json()["data"]
    assert [r["name"] for r in one["_dataList"]] == ["德邦物流"]


async def test_file_download(raw: httpx.AsyncClient, cookies: dict[str, str], sim: ErpSim) -> None:
    paths = {sim.data.files[p].rsplit(".", 1)[-1]: p for d in sim.data.deliveries for p in (e.split("#")[0] for e in d["attachments"])}
    pdf_path, png_path = paths["pdf"], paths["png"]
    assert "." not in pdf_path + png_path  # paths have no extension: the bytes tell the type
    pdf = await raw.get(f"/business/file/{APP}/{pdf_path}", headers=jar(cookies))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] in ("application/pdf", "application/octet-stream")  # the store may not say
    png = await raw.get(f"/business/file/{APP}/{png_path}", headers=jar(cookies))
    assert png.headers["content-type"] in ("image/png", "application/octet-stream") and png.content.startswith(b"\x89PNG")
    again = await raw.get(f"/business/file/{APP}/{pdf_path}", headers=jar(cookies))
    assert again.content == pdf.content
    image = next(p["image"] for p in sim.data.products if p["image"])
    assert (await raw.get(f"/business/file/{APP}/{image}", headers=jar(cookies))).status_code == 200
    assert (await raw.get(f"/business/file/{APP}/att/none.pdf", headers=jar(cookies))).status_code == 404
    assert (await raw.get(f"/business/file/{APP}/{pdf_path}")).status_code == 401
