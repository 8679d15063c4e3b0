"""An alert reaches the bound administrators who hold a grant, once, as a subscription message."""

from __future__ import annotations

import httpx
import pytest
from sqlmodel import select

from bff.demo import DemoStack
from bff.store.tables import MessageLog
from tests.notify.helpers import GRANT, openid_of, wait_for_messages
from tests.support import GraphQLClient, unique_user

# On MariaDB + Redis too: alert state is shared through the cache and messages go through the outbox rows.
pytestmark = pytest.mark.backend

BIND_ADMIN = "mutation($u: String!, $p: String!) { bindCompany(input: {erpAccount: {username: $u, password: $p}}) { bindStatus } }"


async def admin(stack: DemoStack, http: httpx.AsyncClient) -> GraphQLClient:
    gql = GraphQLClient(http, await stack.login(unique_user("admin")))
    creds = stack.demo["admin"]
    assert (await gql(BIND_ADMIN, {"u": creds["account"], "p": creds["password"]}))["data"]["bindCompany"]["bindStatus"]
    return gql


async def test_erp_down_alert_reaches_granted_administrators_once(stack: DemoStack, http: httpx.AsyncClient) -> None:
    granted, ungranted = await admin(stack, http), await admin(stack, http)
    granted_openid, ungranted_openid = await openid_of(granted), await openid_of(ungranted)
    await granted(GRANT, {"r": [{"templateId": "TPL_ADMIN_ALERT", "accepted": True}]})
    async with httpx.AsyncClient(base_url=stack.wechat.url) as wx:
        (await wx.post("/__sim/grants", json={"openid": granted_openid, "template_id": "TPL_ADMIN_ALERT"})).raise_for_status()

    alerter = stack.services.monitor.alerter
    kind = "erp-test-" + unique_user()  # its own condition: no other test's alert state interferes
    first = await alerter.observe(kind, "down", quiet_level="up", title="ERP 接口不可用", detail="连续 3 次探测失败")
    again = await alerter.observe(kind, "down", quiet_level="up", title="ERP 接口不可用", detail="仍不可用")
    assert first is not None and again is None  # one alert per change of condition

    messages = await wait_for_messages(stack, granted_openid, 1)
    assert len(messages) == 1
    assert messages[0]["template_id"] == "TPL_ADMIN_ALERT" and messages[0]["page"] == "pages/monitor/monitor"
    assert messages[0]["data"]["phrase2"] == "故障"
    async with stack.services.db.session() as s:
        skipped = (await s.exec(select(MessageLog).where(MessageLog.openid == ungranted_openid))).all()
    assert [(m.msg_status, "no subscription grant" in (m.error_detail or "")) for m in skipped] == [("skipped", True)]
