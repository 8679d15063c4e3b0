"""verify_account (a user's credentials) never touches the service session or leaks secrets."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from erp_fake import LOGIN_URL, PASSWORD, FakeErp

from bff.erp import SALES_ORDERS, ErpClient, SalesOrderRecord
from bff.erp.errors import ErpLoginRefused, ErpUnavailable
from bff.erp.protocol import hash_password

pytestmark = pytest.mark.asyncio

USER_PASSWORD = "user-Pa55word!"


async def test_verify_account_success_leaves_service_session(client: ErpClient, erp: FakeErp) -> None:
    await client.list(SALES_ORDERS, model=SalesOrderRecord)
    assert await client.verify_account("13700000000", USER_PASSWORD) is None
    assert erp.login_bodies[-1] == {
        "state": True, "account": "13700000000", "token": "", "password": hash_password(USER_PASSWORD)
    }
    login_request = erp.router.routes[0].calls.last.request
    assert "cookie" not in login_request.headers  # a fresh jar: no service cookies sent
    await client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
    # The user's login (sid-2) did not replace the service session (sid-1).
    assert erp.business_cookies[-1] == "JSESSIONID=app-sid-1; sid=sid-1"
    assert client.login_count == 1


async def test_verify_account_refused(client: ErpClient, erp: FakeErp) -> None:
    erp.refuse_login = True
    with pytest.raises(ErpLoginRefused):
        await client.verify_account("13700000000", "wrong")
    assert len(erp.login_bodies) == 1  # not retried


@pytest.mark.parametrize("body", [
    {"json": {"success": True, "data": {"userId": 7}}}, {"json": {"code": 0, "msg": "ok"}}, {"content": b""},
    {"text": "<html><body>欢迎</body></html>"},
])
async def test_login_succeeds_on_its_cookies_whatever_the_body(client: ErpClient, erp: FakeErp, body: dict[str, object]) -> None:
    # Evidence: the public client used the cookies and the status only; the body's shape is unknown.
    erp.login_body = body
    assert await client.verify_account("13700000000", USER_PASSWORD) is None
    await client.list(SALES_ORDERS, model=SalesOrderRecord)
    assert client.login_count == 1


@pytest.mark.parametrize("status, body", [(200, {"json": {"success": True}}), (200, {"text": "<html>登录</html>"}), (401, {"content": b""})])
async def test_login_without_a_session_cookie_is_refused(client: ErpClient, erp: FakeErp, status: int, body: dict[str, object]) -> None:
    erp.refuse_login = True
    erp.refusal = httpx.Response(status, **body)  # type: ignore[arg-type]
    with pytest.raises(ErpLoginRefused):
        await client.verify_account("13700000000", USER_PASSWORD)


async def test_verify_account_unreachable(client: ErpClient, erp: FakeErp) -> None:
    erp.router.routes[0].side_effect = httpx.ConnectError("down")
    with pytest.raises(ErpUnavailable):
        await client.verify_account("13700000000", USER_PASSWORD)


async def test_logs_hold_no_password_cookie_or_session(
    client: ErpClient, erp: FakeErp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        await client.list(SALES_ORDERS, model=SalesOrderRecord)
        erp.expire()
        await client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
        await client.verify_account("13700000000", USER_PASSWORD)
        erp.refuse_login = True
        with pytest.raises(ErpLoginRefused):
            await client.verify_account("13700000000", USER_PASSWORD)
    text = caplog.text + json.dumps([r.args for r in caplog.records], default=str)
    assert "erp login ok" in text  # the logs were captured at all
    for secret in (PASSWORD, USER_PASSWORD, hash_password(PASSWORD), hash_password(USER_PASSWORD),
                   "sid-1", "sid-2", "app-sid", "plat-1"):
        assert secret not in text
    assert PASSWORD not in repr(client._config)
    assert LOGIN_URL  # the fake was the one answering
