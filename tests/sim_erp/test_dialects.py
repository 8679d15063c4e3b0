"""Each protocol dialect, observed over HTTP, and the control API that switches it."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from urllib.parse import unquote

import httpx
import pytest

from bff.sim.erp import Dialect, ErpSim, ErpSimConfig
from bff.sim.erp.state import sha1_hex
from tests.support import Sim

APP = "SnowInventory-82886"
Post = Callable[..., Awaitable[httpx.Response]]
Rows = Callable[..., Awaitable[dict[str, Any]]]
Login = Callable[[httpx.AsyncClient, str, str], Awaitable[dict[str, str]]]
EVIDENCED_PATH = re.compile(r"35/[0-9a-f]{24}/[0-9a-f]{32}")  # like 35/693ce2cba75b1057af4975bb/f8a9cb6bdeef473b9e14fd0538349154
LINKS = {"parentId", "salesOrderId", "salesOrderLineId", "salesOrderCode"}
EXTRA = {"createTime", "creator", "flowStatus", "tags", "_version", "extData"}


def jar(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


async def speak(raw: httpx.AsyncClient, **changes: str) -> None:
    answer = await raw.post("/__sim/dialect", json=changes)
    assert answer.status_code == 200, answer.text


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in leaves(v)]
    if isinstance(value, list):
        return [leaf for v in value for leaf in leaves(v)]
    return [value]


# --- the control API ---------------------------------------------------------------------------

async def test_dialect_is_read_merged_and_reset(raw: httpx.AsyncClient) -> None:
    sim = Sim(raw)
    described = (await raw.get("/__sim/dialect")).json()
    assert described["dialect"] == {key: values[0] for key, values in described["allowed"].items()}
    assert described["dialect"]["attachments"] == "query" and described["dialect"]["line_links"] == "absent"
    assert described["dialect"]["attachments_in_list"] == "no"  # evidence: getBusiness detail only
    assert described["allowed"]["expiry"] == ["401", "redirect", "success-false", "html"]
    merged = await sim.dialect(attachments="string", numbers="strings")
    assert merged == {**described["dialect"], "attachments": "string", "numbers": "strings"}
    assert (await sim.dialect(dates="iso"))["attachments"] == "string"  # a POST merges, never replaces
    await sim.reset_dialect()
    assert await sim.dialect() == described["dialect"]


@pytest.mark.parametrize(
    ("body", "mentions"),
    [({"colour": "blue"}, "colour"), ({"attachments": "xml"}, "query, list, string, objects, empty"),
     ({"expiry": 401}, "401, redirect"), ({"numbers": "strings", "dates": "weeks"}, "ms, s, iso")],
)
async def test_unknown_key_or_value_is_refused_with_the_allowed_values(
    raw: httpx.AsyncClient, body: dict[str, Any], mentions: str
) -> None:
    answer = await raw.post("/__sim/dialect", json=body)
    assert answer.status_code == 400 and mentions in answer.json()["error"]
    assert answer.json()["allowed"]["attachments"] == ["query", "list", "string", "objects", "empty"]
    assert (await raw.get("/__sim/dialect")).json()["dialect"] == (await raw.post("/__sim/dialect/reset")).json()["dialect"]
    assert (await raw.post("/__sim/dialect", content=b"[1]")).status_code == 400


@pytest.mark.parametrize("sim_config", [ErpSimConfig(orders=30, dialect=Dialect(expiry="html", numbers="strings"))])
async def test_start_dialect_from_the_config(raw: httpx.AsyncClient) -> None:
    dialect = (await raw.get("/__sim/dialect")).json()["dialect"]
    assert dialect["expiry"] == "html" and dialect["numbers"] == "strings"
    assert (await raw.post("/__sim/dialect/reset")).json()["dialect"]["expiry"] == "401"


def test_dialect_from_command_line_pairs() -> None:
    assert Dialect.from_pairs(["attachments=objects", " expiry = redirect "]) == Dialect(attachments="objects", expiry="redirect")
    for bad in (["attachments"], ["attachments=xml"], ["nope=1"]):
        with pytest.raises(ValueError):
            Dialect.from_pairs(bad)


def test_bff_sim_erp_dialect_option(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import uvicorn

    from bff import cli

    served: list[Any] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: served.append(app))
    cli.main(["sim", "erp", "--dialect", "attachments=string", "--dialect", "login_reply=html"])
    assert served[0].state.sim.dialect == Dialect(attachments="string", login_reply="html")
    with pytest.raises(SystemExit) as refused:
        cli.main(["sim", "erp", "--dialect", "attachments=xml"])
    assert "list, string, objects, empty" in str(refused.value)
    with pytest.raises(SystemExit):
        cli.main(["sim", "wechat", "--dialect", "attachments=list"])
    assert len(served) == 1


# --- attachments -------------------------------------------------------------------------------

async def attachments_seen(call: Post, delivery_id: str) -> tuple[Any, Any]:
    """The attachments of one delivery as a list read and as getBusiness send them."""
    listed = (await call("getBusinessPageList", formId=100039, filters={"id": [delivery_id]}, page=0, pageSize=1)).json()
    detail = (await call("getBusiness", formId=100039, id=delivery_id)).json()
    return listed["data"]["_dataList"][0]["attachments"], detail["data"]["attachments"]


def paths_of(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [e for e in value.split(",") if e]
    return [e.partition("#")[0] if isinstance(e, str) else e.get("path") or e["url"] for e in value or []]


def held(entry: str) -> tuple[str, str, int]:
    """(path, name, size) of a held entry, read here by hand: ``path#size=N[&name=encoded]``."""
    path, _, fragment = entry.partition("#")
    size, _, name = fragment.removeprefix("size=").partition("&name=")
    return path, unquote(name), int(size)


def query_parts(entry: str) -> tuple[str, str, int, str]:
    """(path, name, size, key order) of a "query" entry as sent."""
    path, _, fragment = entry.partition("#")
    pairs = [pair.partition("=") for pair in fragment.split("&")]
    keys = "".join(key[0] for key, _, _ in pairs)  # "sn" or "ns" ("s" without a name)
    values = {key: value for key, _, value in pairs}
    return path, unquote(values.get("name", "")), int(values["size"]), keys


MAGIC = {".pdf": b"%PDF-", ".png": b"\x89PNG\r\n\x1a\n", ".jpg": b"\xff\xd8\xff", ".jpeg": b"\xff\xd8\xff", ".xlsx": b"PK\x03\x04"}
REAL_TYPES = {".pdf": "application/pdf", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
              ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def suffix(name: str) -> str:
    return "." + name.rsplit(".", 1)[-1].lower()


@pytest.mark.parametrize("shape", ["query", "list", "string", "objects"])
async def test_attachments_shapes_in_lists_and_detail(
    shape: str, raw: httpx.AsyncClient, call: Post, cookies: dict[str, str], sim: ErpSim
) -> None:
    await speak(raw, attachments=shape, attachments_in_list="yes")
    delivery = next(d for d in sim.data.deliveries if len(d["attachments"]) == 2)
    parts = [held(entry) for entry in delivery["attachments"]]
    listed, detail = await attachments_seen(call, delivery["id"])
    assert listed == detail
    if shape in ("query", "string"):
        sent = listed if shape == "query" else listed.split(",")
        assert isinstance(sent, list) and [query_parts(e)[:3] for e in sent] == parts
        if shape == "string":
            assert isinstance(listed, str)
    elif shape == "list":
        assert listed == [f"{path}#{name}" for path, name, _ in parts]  # the bare name, not encoded
    else:
        assert isinstance(listed, list) and all(isinstance(e, dict) for e in listed)
        names = [e.get("name") or e["fileName"] for e in listed]
        assert names == [name for _, name, _ in parts]
    paths = paths_of(listed)
    assert len(paths) == 2 and all(EVIDENCED_PATH.fullmatch(p) for p in paths)
    for path, name, size in parts:  # the download endpoint serves every path the answers name
        file = await raw.get(f"/business/file/{APP}/{path}", headers=jar(cookies))
        assert file.status_code == 200 and file.content.startswith(MAGIC[suffix(name)]) and len(file.content) == size


async def test_query_attachments_are_the_evidenced_shape(call: Post, cookies: dict[str, str], raw: httpx.AsyncClient, sim: ErpSim) -> None:
    """Default: ``"<path>#size=<bytes>&name=<URL-encoded name>"``, the keys in both orders across
    deliveries, names that need their encoding, and one attachment sent without a name."""
    carrying = [d for d in sim.data.deliveries if d["attachments"]]
    sent: list[str] = []
    for delivery in carrying:
        value = (await call("getBusiness", formId=100039, id=delivery["id"])).json()["data"]["attachments"]
        assert isinstance(value, list) and all(isinstance(e, str) for e in value)
        assert [query_parts(e)[:3] for e in value] == [held(e) for e in delivery["attachments"]]
        sent += value
    assert all(re.fullmatch(r"35/[0-9a-f]{24}/[0-9a-f]{32}#(size=\d+(&name=[^&#\s]+)?|name=[^&#\s]+&size=\d+)", e) for e in sent)
    orders = {query_parts(e)[3] for e in sent}
    assert orders == {"sn", "ns", "s"}  # both key orders, and the one without a name
    assert sum(query_parts(e)[3] == "s" for e in sent) == 1
    names = [query_parts(e)[1] for e in sent]
    for needs_encoding in (" ", "&", "#", "%", "装箱单"):
        assert any(needs_encoding in name for name in names), needs_encoding
    assert {suffix(n) for n in names if n} == {".pdf", ".png", ".jpg", ".jpeg", ".xlsx"}
    nameless = next(e for e in sent if query_parts(e)[3] == "s")
    assert (await raw.get(f"/business/file/{APP}/{nameless.partition('#')[0]}", headers=jar(cookies))).status_code == 200


async def test_attachments_only_in_detail_unless_told(raw: httpx.AsyncClient, call: Post, rows: Rows, sim: ErpSim) -> None:
    delivery = next(d for d in sim.data.deliveries if d["attachments"])
    for columns in ([], ["code", "attachments"]):  # absent even when the columns name it
        listed = (await rows(100039, columns=columns))["_dataList"]
        assert listed and all("attachments" not in r for r in listed)
    assert (await call("getBusiness", formId=100039, id=delivery["id"])).json()["data"]["attachments"]
    await speak(raw, attachments_in_list="yes")
    listed = (await rows(100039, columns=["code", "attachments"]))["_dataList"]
    assert all("attachments" in r for r in listed)
    assert next(r for r in listed if r["id"] == delivery["id"])["attachments"]


async def test_files_are_of_the_type_their_name_says(raw: httpx.AsyncClient, cookies: dict[str, str], sim: ErpSim) -> None:
    """Every attachment's bytes are of its name's type and of its declared size; the download
    declares that type or, for some, only ``application/octet-stream``."""
    declared: set[str] = set()
    for entry in [e for d in sim.data.deliveries for e in d["attachments"]]:
        path, name, size = held(entry)
        real = name or sim.data.files[path]  # the nameless one: its type is the stored file's
        file = await raw.get(f"/business/file/{APP}/{path}", headers=jar(cookies))
        assert file.status_code == 200 and len(file.content) == size
        assert file.content.startswith(MAGIC[suffix(real)]), real
        assert file.headers["content-type"] in (REAL_TYPES[suffix(real)], "application/octet-stream")
        declared.add(file.headers["content-type"])
    assert "application/octet-stream" in declared and "application/pdf" in declared


async def test_attachment_objects_come_with_either_key_set(raw: httpx.AsyncClient, rows: Rows) -> None:
    await speak(raw, attachments="objects", attachments_in_list="yes")
    objects = [o for r in (await rows(100039))["_dataList"] for o in r["attachments"]]
    assert {frozenset(o) for o in objects} == {frozenset({"path", "name"}), frozenset({"url", "fileName", "size"})}


async def test_attachments_empty_in_every_way(raw: httpx.AsyncClient, rows: Rows, call: Post, sim: ErpSim) -> None:
    await speak(raw, attachments="empty", attachments_in_list="yes")
    values = [r["attachments"] for r in (await rows(100039))["_dataList"]]
    assert {repr(v) for v in values} == {"None", "''", "[]"}
    carrying = next(d for d in sim.data.deliveries if d["attachments"])
    assert (await call("getBusiness", formId=100039, id=carrying["id"])).json()["data"]["attachments"] in (None, "", [])


# --- login reply -------------------------------------------------------------------------------

async def login_once(raw: httpx.AsyncClient, account: str, password: str) -> httpx.Response:
    return await raw.post("/apps/service/login", json={"state": True, "account": account, "token": "", "password": sha1_hex(password)})


@pytest.mark.parametrize(
    ("shape", "good", "refused"),
    [
        ("json-success", lambda r: r.json()["success"] is True and r.json()["data"]["userName"],
         lambda r: r.json() == {"success": False, "message": "账号或密码错误"}),
        ("json-other", lambda r: r.json()["code"] == 0 and "success" not in r.json(), lambda r: r.json()["code"] == 1),
        ("empty", lambda r: r.content == b"", lambda r: r.content == b""),
        ("html", lambda r: r.headers["content-type"].startswith("text/html") and "<html" in r.text,
         lambda r: r.headers["content-type"].startswith("text/html") and "账号或密码错误" in r.text),
    ],
)
async def test_login_reply_shapes_cookies_tell_success(
    shape: str, good: Callable[[httpx.Response], bool], refused: Callable[[httpx.Response], bool],
    raw: httpx.AsyncClient, erp_login: Login,
) -> None:
    await speak(raw, login_reply=shape)
    ok = await login_once(raw, "13900000000", "svc-demo-password")
    assert ok.status_code == 200 and {"JSESSIONID", "sid"} <= set(ok.cookies) and good(ok), ok.text
    wrong = await login_once(raw, "13900000000", "wrong")
    assert "sid" not in wrong.cookies and refused(wrong), wrong.text
    stranger = await login_once(raw, "10000000000", "whatever")
    assert "sid" not in stranger.cookies and refused(stranger)
    statuses = {wrong.status_code, stranger.status_code}
    assert statuses == ({200, 401} if shape == "empty" else {200})
    cookies = await erp_login(raw, "13900000000", "svc-demo-password")  # the three steps still work
    answer = await raw.post("/business/getBusiness", json={"appName": APP, "formId": 100004, "id": "36"}, headers=jar(cookies))
    assert answer.json()["data"]["code"] == "KH0036"


# --- session expiry ----------------------------------------------------------------------------

async def test_expiry_shapes(raw: httpx.AsyncClient, cookies: dict[str, str], sim: ErpSim) -> None:
    body = {"appName": APP, "formId": 100001, "page": 0, "pageSize": 1}
    path = next(iter(sim.data.files))

    async def expired() -> list[httpx.Response]:
        await raw.post("/__sim/sessions/expire")
        return [
            await raw.post("/business/getBusinessPageList", json=body, headers=jar(cookies)),
            await raw.post("/business/getBusiness", json={**body, "id": "10001"}, headers=jar(cookies)),
            await raw.get(f"/business/file/{APP}/{path}", headers=jar(cookies)),
        ]

    for answer in await expired():  # the default
        assert answer.status_code == 401 and answer.json()["errorCode"] == "SESSION_EXPIRED"
    await speak(raw, expiry="redirect")
    for answer in await expired():
        assert answer.status_code == 302 and answer.headers["location"] == "/apps/login"
    await speak(raw, expiry="html")
    for answer in await expired():
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/html") and "登录" in answer.text
    await speak(raw, expiry="success-false")
    answers = [a.json() for a in await expired()]
    assert all(a["success"] is False and a["message"] == "登录已过期，请重新登录" for a in answers)
    assert {"errorCode" in a for a in answers} == {True, False}


# --- logisticsCompanyId in lists, delivery-line links ----------------------------------------------

async def test_logistics_company_in_list_rows_when_the_dialect_says_so(raw: httpx.AsyncClient, rows: Rows, sim: ErpSim) -> None:
    await speak(raw, logistics_in_list="yes")
    by_id = {d["id"]: d for d in sim.data.deliveries}
    for listed in ((await rows(100039))["_dataList"], (await rows(100039, columns=["code", "logisticsCompanyId"]))["_dataList"]):
        assert all(r["logisticsCompanyId"] == by_id[r["id"]]["logisticsCompanyId"] for r in listed)
    await speak(raw, logistics_in_list="no")
    assert all("logisticsCompanyId" not in r for r in (await rows(100039, columns=["logisticsCompanyId"]))["_dataList"])


async def test_line_links_absent_or_present(raw: httpx.AsyncClient, rows: Rows, call: Post, sim: ErpSim) -> None:
    delivery = sim.data.deliveries[7]
    mine = [x for x in sim.data.delivery_lines if x["parentId"] == delivery["id"]]
    by_context = await rows(100041, condition={"parent.id": delivery["id"]})
    assert by_context["_count"] == len(mine) and all(not LINKS & set(r) for r in by_context["_dataList"])
    detail = (await call("getBusiness", formId=100041, id=mine[0]["id"])).json()["data"]
    assert not LINKS & set(detail) and detail["productName"] == mine[0]["productName"]
    for key, value in (("parentId", delivery["id"]), ("salesOrderLineId", mine[0]["salesOrderLineId"])):
        assert (await rows(100041, filters={key: value}))["_count"] == 0
    await speak(raw, line_links="present")
    by_filter = await rows(100041, filters={"parentId": delivery["id"]})
    assert by_filter["_count"] == len(mine) and all(r["parentId"] == delivery["id"] for r in by_filter["_dataList"])
    assert all(set(r) >= LINKS for r in by_filter["_dataList"])
    by_line = await rows(100041, filters={"salesOrderLineId": mine[0]["salesOrderLineId"]})
    assert mine[0]["id"] in {r["id"] for r in by_line["_dataList"]}


# --- numbers, dates, statuses, extra fields ---------------------------------------------------------

async def test_numbers_and_booleans_as_text(raw: httpx.AsyncClient, rows: Rows, call: Post, sim: ErpSim) -> None:
    await speak(raw, numbers="strings", extra_fields="yes")
    for form in (100001, 100185, 100039, 100041, 100004):
        data = await rows(form, pageSize=200)
        assert isinstance(data["_count"], int) and data["_count"] > 0  # the envelope stays native
        assert all(isinstance(v, str) for v in data["_sum"].values())
        assert all(leaf is None or isinstance(leaf, str) for leaf in leaves(data["_dataList"])), form
    order = sim.data.orders[0]
    sent = (await call("getBusiness", formId=100001, id=order["id"])).json()["data"]
    assert sent["status"] == str(order["status"]) and sent["amount"] == str(order["amount"]) and sent["date"] == str(order["date"])
    flags = {r["是否发货"] for r in (await rows(100039))["_dataList"]} | {r["已出库"] for r in (await rows(100039))["_dataList"]}
    assert {"true", "是"} <= flags and flags <= {"true", "false", "是", "否"}
    lines = (await rows(100041, pageSize=50))["_dataList"]
    assert all(re.fullmatch(r"\d+\.0", r["quantity"]) for r in lines)  # evidence: "quantity 2.0"


@pytest.mark.parametrize("shape", ["ms", "s", "iso"])
async def test_dates(shape: str, raw: httpx.AsyncClient, call: Post, sim: ErpSim) -> None:
    await speak(raw, dates=shape)
    delivery = next(d for d in sim.data.deliveries if d["是否发货"])
    sent = (await call("getBusiness", formId=100039, id=delivery["id"])).json()["data"]
    listed = (await call("getBusinessPageList", formId=100001, filters={"id": delivery["salesOrderId"]}, page=0, pageSize=1)).json()
    order = sim.forms[100001][delivery["salesOrderId"]]
    for value, ms in ((sent["发货日期"], delivery["发货日期"]), (sent["date"], delivery["date"]),
                      (listed["data"]["_dataList"][0]["deliveryDate"], order["deliveryDate"])):
        if shape == "ms":
            assert value == ms
        elif shape == "s":
            assert value == ms // 1000 and isinstance(value, int)
        else:
            assert isinstance(value, str) and value.endswith("+08:00")
            assert datetime.fromisoformat(value).timestamp() * 1000 == ms


async def test_numbers_as_text_with_dates_in_seconds(raw: httpx.AsyncClient, call: Post, sim: ErpSim) -> None:
    await speak(raw, numbers="strings", dates="s")
    delivery = sim.data.deliveries[0]
    assert (await call("getBusiness", formId=100039, id=delivery["id"])).json()["data"]["发货日期"] == str(delivery["发货日期"] // 1000)


async def test_unknown_statuses(raw: httpx.AsyncClient, rows: Rows, call: Post, sim: ErpSim) -> None:
    known = (await rows(100001))["_dataList"]
    assert {r["status"] for r in known} == {1, 2, 4, 5}
    await speak(raw, statuses="unknown")
    seen = (await rows(100001))["_dataList"]
    odd = [r for r in seen if r["status"] not in (1, 2, 4, 5)]
    assert {r["status"] for r in odd} == {3, 6, 9} and 0.05 < len(odd) / len(seen) < 0.2
    assert odd == [r for r in (await rows(100001))["_dataList"] if r["status"] not in (1, 2, 4, 5)]  # the same every time
    assert (await rows(100001, filters={"status": [1, 2, 4, 5]}))["_count"] == len(seen) - len(odd)
    assert (await rows(100001, filters={"status": 6}))["_count"] == sum(r["status"] == 6 for r in odd)
    assert (await call("getBusiness", formId=100001, id=odd[0]["id"])).json()["data"]["status"] == odd[0]["status"]


async def test_extra_fields_everywhere(raw: httpx.AsyncClient, rows: Rows, call: Post) -> None:
    assert all(not EXTRA & set(r) for r in (await rows(100001, pageSize=50))["_dataList"])
    await speak(raw, extra_fields="yes")
    for form in (100004, 100001, 100185, 100039, 100041):
        listed = (await rows(form, pageSize=50))["_dataList"]
        assert all(set(r) >= EXTRA for r in listed), form
        assert all(set(r) >= EXTRA for r in (await rows(form, pageSize=5, columns=["id"]))["_dataList"])
        detail = (await call("getBusiness", formId=form, id=listed[0]["id"])).json()["data"]
        assert set(detail) >= EXTRA and isinstance(detail["creator"], dict) and isinstance(detail["tags"], list)
    body = {"formId": 100039, "datasourceId": 100292, "colId": 110673, "page": 0, "pageSize": 100}
    assert all(set(r) >= EXTRA for r in (await call("getDatasource", **body)).json()["data"]["_dataList"])
