"""Access tokens (40001 refresh, one fetch for two instances on one Redis) and do-not-disturb."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime, timedelta

import httpx
from pydantic import SecretStr
from sqlmodel import select

from bff.core.clock import aware, utc_now
from bff.demo import DemoStack, start_demo_stack
from bff.notify.outbox import MessageState
from bff.services import Services
from bff.sim.wechat import WechatSimConfig
from bff.store.tables import MessageLog
from tests.notify.helpers import GRANT, change_order, open_order, openid_of, sim_messages, wait_for_messages
from tests.support import REDIS_URL, GraphQLClient, make_settings, require_service, unique_user

SERVICE_KEY = "svc-" + secrets.token_hex(8)
ADMIN_TOKEN = "adm-" + secrets.token_hex(8)
DATA = {"thing1": {"value": "ERP 同步延迟超过阈值"}, "phrase2": {"value": "严重"},
        "time3": {"value": "2026-11-26 15:01"}, "thing4": {"value": "请检查网络"}}


async def test_40001_refreshes_once_and_the_message_still_goes() -> None:
    stack = await start_demo_stack(base_settings=make_settings(service_key=SecretStr(SERVICE_KEY),
                                                               admin_token=SecretStr(ADMIN_TOKEN)))
    try:
        async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
            openid = await openid_of(GraphQLClient(http, await stack.login(unique_user("tok"))))
            stack.wechat_sim.grant(openid, "TPL_ADMIN_ALERT", 2)
            body = {"openid": openid, "templateId": "TPL_ADMIN_ALERT", "data": DATA, "page": "pages/index/index", "wait": True}
            first = await http.post("/api/wechat/template-msg", json=body, headers={"X-Service-Key": SERVICE_KEY})
            assert first.status_code == 200 and first.json()["status"] == "sent", first.text
            before = stack.wechat_sim.stats["stable_token"]
            stack.wechat_sim.set_faults(invalidate_tokens=True)  # the cached token now answers 40001
            second = await http.post("/api/wechat/template-msg", json=body, headers={"X-Service-Key": SERVICE_KEY})
            assert second.status_code == 200 and second.json()["status"] == "sent", second.text
            assert stack.wechat_sim.stats["stable_token"] == before + 1
            assert len([m for m in stack.wechat_sim.messages if m["touser"] == openid]) == 2
            refused = await http.post("/api/wechat/template-msg", json=body, headers={"X-Service-Key": "wrong"})
            assert refused.status_code == 401
            anonymous = await http.post("/api/wechat/template-msg", json=body)
            assert anonymous.status_code == 401
            # BFF_ADMIN_TOKEN, "the token for admin pages and APIs" (README), sends too (issue 21).
            stack.wechat_sim.grant(openid, "TPL_ADMIN_ALERT", 1)
            by_admin = await http.post("/api/wechat/template-msg", json=body, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
            assert by_admin.status_code == 200 and by_admin.json()["status"] == "sent", by_admin.text
    finally:
        await stack.stop()


async def test_two_instances_on_one_redis_fetch_one_token() -> None:
    require_service(REDIS_URL, 6379, "Redis")
    config = WechatSimConfig(appid="wx-test-" + secrets.token_hex(4))  # its own token key in the shared Redis
    stack = await start_demo_stack(base_settings=make_settings(redis_url=REDIS_URL), wechat_config=config)
    other = Services.create(stack.settings)  # a second BFF instance on the same Redis
    try:
        users = [await openid_of(GraphQLClient(httpx.AsyncClient(base_url=stack.url), await stack.login(unique_user("r"))))
                 for _ in range(2)]
        for openid in users:
            stack.wechat_sim.grant(openid, "TPL_ADMIN_ALERT")
        data = {"thing1": "告警", "phrase2": "严重", "time3": "15:01", "thing4": "处理"}
        await asyncio.gather(
            stack.services.wechat.send_subscribe(users[0], "TPL_ADMIN_ALERT", data),
            other.wechat.send_subscribe(users[1], "TPL_ADMIN_ALERT", data),
        )
        assert stack.wechat_sim.stats["stable_token"] == 1
        assert {m["touser"] for m in stack.wechat_sim.messages} == set(users)
    finally:
        await other.aclose()
        await stack.stop()


async def test_event_inside_do_not_disturb_is_sent_at_the_window_end(stack: DemoStack, http: httpx.AsyncClient) -> None:
    gql = GraphQLClient(http, await stack.login(unique_user("dnd"), stack.demo["customer"]["invite_code"]))
    openid = await openid_of(gql)
    saved = await gql("mutation { updateNotificationSettings(input: {dndStart: \"22:00\", dndEnd: \"08:00\", "
                      "followAll: true}) { dndStart dndEnd timezone enabledKinds followAll } }")
    assert saved["data"]["updateNotificationSettings"]["dndStart"] == "22:00"
    await gql(GRANT, {"r": [{"templateId": "TPL_ORDER_STATUS", "accepted": True}]})
    stack.wechat_sim.grant(openid, "TPL_ORDER_STATUS")

    notify = stack.services.notify
    now = [datetime(2027, 1, 10, 15, 30, tzinfo=UTC)]  # 23:30 in Beijing: inside the window
    notify.set_clock(lambda: now[0])
    try:
        order = await open_order(gql)
        await notify.watcher.run_cycle()
        await change_order(stack, order["id"], "produce")
        await notify.watcher.run_cycle()
        window_end = datetime(2027, 1, 11, 0, 0, tzinfo=UTC)  # 08:00 in Beijing
        await notify.outbox.drain_once()
        async with stack.services.db.session() as s:  # held in the outbox until the window ends
            rows = (await s.exec(select(MessageLog).where(MessageLog.openid == openid))).all()
        queued = [r for r in rows if r.msg_status == MessageState.QUEUED]  # (other kinds: skipped, no grant)
        assert len(queued) == 1 and all(r.msg_status in (MessageState.QUEUED, MessageState.SKIPPED) for r in rows), [r.msg_status for r in rows]
        assert aware(queued[0].next_attempt_at) >= window_end, queued[0].next_attempt_at
        assert await sim_messages(stack, openid) == []
        now[0] = window_end - timedelta(seconds=1)
        await notify.outbox.drain_once()
        assert await sim_messages(stack, openid) == []
        now[0] = window_end
        notify.outbox.wake()
        sent = await wait_for_messages(stack, openid, 1)
        assert len(sent) == 1 and sent[0]["template_id"] == "TPL_ORDER_STATUS"
        centre = await gql("{ messages { items { orderId kind read } } }")
        assert {"orderId": order["id"], "kind": "order_status", "read": False} in centre["data"]["messages"]["items"]
    finally:
        notify.set_clock(utc_now)
