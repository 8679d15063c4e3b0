"""ErpClient against a respx fake: login, expiry, retries, deadline, merging, validation."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time

import httpx
import pytest
import respx
from erp_fake import ACCOUNT, APP_NAME, BASE_URL, PASSWORD, FakeErp, order_row, page

from bff.erp import SALES_ORDERS, ErpClient, ErpClientConfig, SalesOrderRecord
from bff.erp.errors import ErpDataInvalid, ErpFileMissing, ErpRefused, ErpUnavailable
from bff.erp.protocol import hash_password

pytestmark = pytest.mark.asyncio


async def read(client: ErpClient, **kwargs: object) -> list[str]:
    result = await client.list(SALES_ORDERS, model=SalesOrderRecord, **kwargs)  # type: ignore[arg-type]
    return [r.id for r in result.rows]


# --- login ---------------------------------------------------------------------------


async def test_lazy_three_step_login(client: ErpClient, erp: FakeErp) -> None:
    assert erp.logins == 0  # nothing before the first read
    assert await read(client) == ["1"]
    assert erp.logins == 1
    body = erp.login_bodies[0]
    assert body == {"state": True, "account": ACCOUNT, "token": "", "password": hash_password(PASSWORD)}
    assert re.fullmatch(r"[0-9a-f]{40}", body["password"]) and body["password"] != PASSWORD
    assert erp.open_app_cookies == ["sid=sid-1"]
    assert erp.business_cookies == ["JSESSIONID=app-sid-1; sid=sid-1"]
    await read(client, page=1)
    assert erp.logins == 1 and client.login_count == 1


async def test_session_cookies_stay_out_of_an_injected_jar(config: ErpClientConfig, erp: FakeErp) -> None:
    async with httpx.AsyncClient() as http:
        client = ErpClient(config, http)
        await read(client)
        assert list(http.cookies.jar) == []
        await client.aclose()
        assert not http.is_closed  # an injected client belongs to its owner


async def test_service_login_refused_is_unavailable(client: ErpClient, erp: FakeErp) -> None:
    erp.refuse_login = True
    with pytest.raises(ErpUnavailable):
        await read(client)
    assert len(erp.login_bodies) == 1  # a refusal is not retried


# --- expiry --------------------------------------------------------------------------


async def test_expiry_shared_by_concurrent_callers(client: ErpClient, erp: FakeErp) -> None:
    await read(client)
    erp.expire()
    erp.business_cookies.clear()
    erp.delay_s = 0.02
    results = await asyncio.gather(*(read(client, page=n) for n in range(20)))  # distinct bodies: no merging
    assert results == [["1"]] * 20
    assert erp.logins == 2  # exactly one re-login for all twenty
    assert len(erp.business_cookies) == 40  # each read met the expiry once, then repeated once
    assert erp.business_cookies.count("JSESSIONID=app-sid-2; sid=sid-2") == 20


@pytest.mark.parametrize(
    "expired",
    [
        lambda: httpx.Response(302, headers={"location": "/apps/login?redirect=x"}),
        lambda: httpx.Response(303, headers={"location": "https://login.erp.test/login.html"}),
        lambda: httpx.Response(200, json={"success": False, "errorCode": "NOT_LOGIN"}),
        lambda: httpx.Response(200, json={"success": False, "message": "请先登录"}),
    ],
    ids=["302", "303", "not-login", "message"],
)
async def test_expiry_signals(client: ErpClient, erp: FakeErp, expired: object) -> None:
    erp.expired_response = expired  # type: ignore[assignment]
    await read(client)
    erp.expire()
    assert await read(client, page=2) == ["1"]
    assert erp.logins == 2


async def test_expired_again_after_login_gives_up(client: ErpClient, erp: FakeErp) -> None:
    await read(client)
    erp.handlers["getBusinessPageList"] = lambda body: httpx.Response(401, json={"success": False})
    with pytest.raises(ErpUnavailable):
        await read(client, page=3)
    assert erp.logins == 2  # one re-login, never a loop


# --- retries and deadline --------------------------------------------------------------


async def test_503_retried_then_given_up(client: ErpClient, erp: FakeErp, config: ErpClientConfig) -> None:
    await read(client)
    route = erp.business["getBusinessPageList"]
    route.reset()
    erp.handlers["getBusinessPageList"] = lambda body: httpx.Response(503, text="outage")
    with pytest.raises(ErpUnavailable):
        await read(client, page=1)
    assert route.call_count == config.retries + 1


async def test_transient_then_success(client: ErpClient, erp: FakeErp) -> None:
    answers = iter([httpx.Response(502), httpx.Response(500), page([order_row(7)])])
    erp.handlers["getBusinessPageList"] = lambda body: next(answers)
    assert await read(client) == ["7"]
    assert erp.business["getBusinessPageList"].call_count == 3


@pytest.mark.parametrize("error", [httpx.ReadTimeout("slow"), httpx.ConnectError("refused")])
async def test_timeouts_and_connection_errors_retried(
    client: ErpClient, erp: FakeErp, config: ErpClientConfig, error: Exception
) -> None:
    await read(client)
    route = erp.business["getBusinessPageList"]
    route.reset()
    route.side_effect = error
    with pytest.raises(ErpUnavailable):
        await read(client, page=1)
    assert 1 < route.call_count <= config.retries + 1


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (httpx.Response(200, json={"success": False, "message": "没有权限"}), ErpRefused),
        (httpx.Response(200, json={"data": {}}), ErpDataInvalid),
        (httpx.Response(200, json={"success": True, "data": {"_count": 1, "_dataList": "x"}}), ErpDataInvalid),
        (httpx.Response(200, json={"success": True, "data": {"_count": "many", "_dataList": []}}), ErpDataInvalid),
        (httpx.Response(403, json={"success": False}), ErpRefused),
    ],
)
async def test_refusals_and_bad_data_not_retried(
    client: ErpClient, erp: FakeErp, answer: httpx.Response, error: type[Exception]
) -> None:
    erp.handlers["getBusinessPageList"] = lambda body: answer
    with pytest.raises(error):
        await read(client)
    assert erp.business["getBusinessPageList"].call_count == 1


async def test_a_page_instead_of_json_is_an_expiry_then_an_outage(client: ErpClient, erp: FakeErp) -> None:
    # Guess: the login page of an expired session. One re-login and one repeat; a page again is an outage.
    await read(client)
    erp.handlers["getBusinessPageList"] = lambda body: httpx.Response(200, text="<html>登录</html>")
    with pytest.raises(ErpUnavailable):
        await read(client, page=1)
    assert erp.business["getBusinessPageList"].call_count == 3 and erp.logins == 2


async def test_hanging_erp_respects_deadline(client: ErpClient, erp: FakeErp, config: ErpClientConfig) -> None:
    await read(client)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return page([])

    erp.business["getBusinessPageList"].side_effect = hang
    started = time.monotonic()
    with pytest.raises(ErpUnavailable):
        await read(client, page=1)
    elapsed = time.monotonic() - started
    # Ended by the deadline (1 s), not by the attempts running out (4 x 0.5 s): a bound that tells
    # the two apart and leaves a busy machine's event loop a second of lag (deadline + 0.2 failed).
    assert config.deadline_s < config.timeout_s * (config.retries + 1)
    assert elapsed < config.timeout_s * (config.retries + 1)
    assert elapsed >= config.timeout_s  # it did wait for the first attempt


async def test_hanging_login_respects_deadline(client: ErpClient, erp: FakeErp, config: ErpClientConfig) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        return httpx.Response(200)

    erp.router.routes[0].side_effect = hang
    started = time.monotonic()
    with pytest.raises(ErpUnavailable):
        await read(client)
    assert time.monotonic() - started < config.timeout_s * (config.retries + 1)  # the deadline ended it (see above)


# --- merging -------------------------------------------------------------------------


async def test_identical_reads_merge(client: ErpClient, erp: FakeErp) -> None:
    await read(client)
    route = erp.business["getBusinessPageList"]
    route.reset()

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return page([order_row(1), order_row(2)])

    route.side_effect = slow
    results = await asyncio.gather(*(read(client, filters={"customerId": "36", "status": [1, 2]}) for _ in range(100)))
    assert route.call_count == 1
    assert results == [["1", "2"]] * 100
    # Key order does not matter: the body is canonicalised.
    await asyncio.gather(read(client, filters={"a": 1, "b": 2}), read(client, filters={"b": 2, "a": 1}))
    assert route.call_count == 2
    await asyncio.gather(read(client, page=1), read(client, page=2), read(client, page=3))
    assert route.call_count == 5


async def test_merged_followers_share_the_exception(client: ErpClient, erp: FakeErp) -> None:
    await read(client)
    route = erp.business["getBusinessPageList"]
    route.reset()

    async def refuse(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.05)
        return httpx.Response(200, json={"success": False, "errorCode": "DENIED"})

    route.side_effect = refuse
    results = await asyncio.gather(*(read(client) for _ in range(10)), return_exceptions=True)
    assert route.call_count == 1
    assert all(isinstance(r, ErpRefused) for r in results)


async def test_cancelled_first_caller_does_not_fail_followers(client: ErpClient, erp: FakeErp) -> None:
    await read(client)

    async def slow(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(0.1)
        return page([order_row(3)])

    erp.business["getBusinessPageList"].side_effect = slow
    first = asyncio.create_task(read(client))
    await asyncio.sleep(0.01)
    follower = asyncio.create_task(read(client))
    await asyncio.sleep(0.01)
    first.cancel()
    assert await follower == ["3"]


# --- validation ----------------------------------------------------------------------


async def test_odd_field_degrades_and_is_counted_by_name(client: ErpClient, erp: FakeErp, caplog: pytest.LogCaptureFixture) -> None:
    secret = "13812345678-personal"
    erp.handlers["getBusinessPageList"] = lambda body: page([order_row(1), order_row(2, shippedRate=secret)])
    with caplog.at_level(logging.DEBUG):
        records = (await client.list(SALES_ORDERS, model=SalesOrderRecord)).rows
    assert [(r.id, r.shippedRate) for r in records] == [("1", None), ("2", None)]
    assert client.anomalies.counts == {(SALES_ORDERS, "shippedRate"): 1}
    assert "shippedRate" in caplog.text and str(SALES_ORDERS) in caplog.text and secret not in caplog.text
    assert erp.business["getBusinessPageList"].call_count == 1


async def test_record_without_identity_is_skipped(client: ErpClient, erp: FakeErp) -> None:
    erp.handlers["getBusinessPageList"] = lambda body: page([{"id": 1, "code": "SO1", "status": 1}, order_row(2)])
    assert await read(client) == ["2"]
    assert client.anomalies.counts == {(SALES_ORDERS, "_record"): 1}


# --- the other calls -----------------------------------------------------------------


async def test_list_body(client: ErpClient, erp: FakeErp) -> None:
    seen: list[dict[str, object]] = []
    erp.handlers["getBusinessPageList"] = lambda body: seen.append(body) or page([order_row()], count=41)
    result = await client.list(
        SALES_ORDERS, model=SalesOrderRecord, filters={"customerId": "36"}, columns=["id"], page=2,
        page_size=20, orderby="date desc", condition={"customerId": "36"}, column_form=True,
    )
    assert result.count == 41 and result.rows[0].code == "SO0001"
    assert seen == [{
        "appName": APP_NAME, "formId": SALES_ORDERS, "condition": {"customerId": "36"}, "columns": ["id"],
        "page": 2, "pageSize": 20, "filters": {"customerId": "36"}, "orderby": "date desc", "isColumnForm": True,
    }]


async def test_request_is_json_in_utf8(client: ErpClient, erp: FakeErp) -> None:
    await client.list(SALES_ORDERS, model=SalesOrderRecord, filters={"systemFulltext": "熔芯"}, columns=["id"])
    request = erp.business["getBusinessPageList"].calls.last.request
    assert request.headers["content-type"] == "application/json"
    assert "熔芯".encode() in request.content  # UTF-8 as is, not \\u escapes
    assert json.loads(request.content)["filters"] == {"systemFulltext": "熔芯"}


@pytest.mark.parametrize(
    "body",
    [
        b'{"success": true, "data": {"_count": 1, "_sum": {"amount": NaN}, "_dataList": [ROW]}}',  # NaN: not JSON, yet seen in Java answers
        '{"success": true, "data": {"_count": 1, "_dataList": [ROW]}}'.encode("utf-16"),  # with its BOM
    ],
)
async def test_answers_the_strict_decoder_refuses_are_still_read(client: ErpClient, erp: FakeErp, body: bytes) -> None:
    row = json.dumps(order_row(7)).encode()
    body = body.replace(b"ROW", row) if b"ROW" in body else body.decode("utf-16").replace("ROW", row.decode()).encode("utf-16")
    erp.handlers["getBusinessPageList"] = lambda _: httpx.Response(200, content=body, headers={"content-type": "application/json"})
    result = await client.list(SALES_ORDERS, model=SalesOrderRecord, columns=["id"])
    assert [r.code for r in result.rows] == ["SO0007"]


@pytest.mark.parametrize(
    ("answer", "found"),
    [
        (httpx.Response(200, json={"success": True, "data": {"id": 5, "code": "S", "customerId": 1, "status": 1}}), True),
        (httpx.Response(200, json={"success": True, "data": None}), False),
        (httpx.Response(200, json={"success": False, "errorCode": "NOT_FOUND"}), False),
        (httpx.Response(200, json={"success": False, "message": "记录不存在"}), False),
    ],
)
async def test_get(client: ErpClient, erp: FakeErp, answer: httpx.Response, found: bool) -> None:
    seen: list[dict[str, object]] = []
    erp.handlers["getBusiness"] = lambda body: seen.append(body) or answer
    record = await client.get(SALES_ORDERS, "5", model=SalesOrderRecord)
    assert (record is not None) == found
    if record is not None:
        assert record.id == "5"
    assert seen == [{"appName": APP_NAME, "formId": SALES_ORDERS, "condition": {}, "id": "5"}]


async def test_update_is_never_retried(client: ErpClient, erp: FakeErp) -> None:
    seen: list[dict[str, object]] = []
    erp.handlers["updateBusiness"] = lambda body: seen.append(body) or httpx.Response(200, json={"success": True, "data": {"id": "5"}})
    assert await client.update(SALES_ORDERS, "5", {"remark": "x"}) == {"id": "5"}
    assert seen[0]["action"] == 2 and seen[0]["data"] == {"remark": "x"} and seen[0]["id"] == "5"
    erp.handlers["updateBusiness"] = lambda body: httpx.Response(503)
    with pytest.raises(ErpUnavailable):
        await client.update(SALES_ORDERS, "5", {"remark": "y"})
    assert erp.business["updateBusiness"].call_count == 2


async def test_update_repeated_after_expiry(client: ErpClient, erp: FakeErp) -> None:
    await read(client)
    erp.expire()
    assert await client.update(SALES_ORDERS, "5", {"remark": "x"}) == {}
    assert erp.logins == 2 and erp.business["updateBusiness"].call_count == 2


async def test_datasource(client: ErpClient, erp: FakeErp) -> None:
    from bff.erp import LOGISTICS, LogisticsCompanyRecord

    seen: list[dict[str, object]] = []
    erp.handlers["getDatasource"] = lambda body: seen.append(body) or page([{"id": 1, "name": "顺丰"}, {"id": 2, "name": "德邦"}])
    result = await client.datasource(LOGISTICS.form_id, LOGISTICS.datasource_id, LOGISTICS.col_id, model=LogisticsCompanyRecord)
    assert [(r.id, r.name) for r in result.rows] == [("1", "顺丰"), ("2", "德邦")]
    assert (seen[0]["formId"], seen[0]["datasourceId"], seen[0]["colId"], seen[0]["pageSize"]) == (100039, 100292, 110673, 500)


async def test_fetch_file(client: ErpClient, erp: FakeErp, router: respx.MockRouter) -> None:
    await read(client)
    route = router.get(f"{BASE_URL}/business/file/{APP_NAME}/2025/12/a%20b.pdf").mock(
        return_value=httpx.Response(200, content=b"%PDF", headers={"content-type": "application/pdf"})
    )
    assert await client.fetch_file("2025/12/a b.pdf") == (b"%PDF", "application/pdf")
    assert route.calls.last.request.headers["cookie"] == "JSESSIONID=app-sid-1; sid=sid-1"
    router.get(f"{BASE_URL}/business/file/{APP_NAME}/gone.pdf").mock(
        return_value=httpx.Response(404, json={"success": False, "message": "文件不存在"})
    )
    with pytest.raises(ErpFileMissing):
        await client.fetch_file("gone.pdf")
    with pytest.raises(ErpFileMissing):
        await client.fetch_file("../business/getBusiness")


async def test_probe(client: ErpClient, erp: FakeErp) -> None:
    seen: list[dict[str, object]] = []
    erp.handlers["getBusinessPageList"] = lambda body: seen.append(body) or page([order_row()])
    latency = await client.probe()
    assert latency > 0 and seen[0]["pageSize"] == 1 and seen[0]["formId"] == SALES_ORDERS
