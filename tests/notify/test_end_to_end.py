"""A bound user's grant, an ERP change, one watcher cycle: exactly one valid message, grant spent."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from bff.demo import DemoStack
from bff.notify.outbox import MessageState
from bff.store.tables import MessageLog, OrderEvent
from bff.wechat.value_rules import key_type, violation
from tests.monitor.helpers import custom_stack
from tests.notify.helpers import (
    FOLLOW,
    FOLLOW_ALL,
    GRANT,
    MESSAGES,
    change_order,
    open_order,
    openid_of,
    sim_messages,
    wait_for_messages,
)
from tests.support import GraphQLClient, Sim, eventually, unique_user

# On MariaDB + Redis too: follows, grants, snapshots and the outbox are rows.
pytestmark = pytest.mark.backend

async def test_granted_user_gets_one_message_and_the_grant_is_spent(stack: DemoStack, http: httpx.AsyncClient) -> None:
    customer = stack.demo["customer"]
    gql = GraphQLClient(http, await stack.login(unique_user("notify"), customer["invite_code"]))
    openid = await openid_of(gql)
    other = GraphQLClient(http, stack.token)  # the demo purchaser of the same customer: no grant
    other_openid = await openid_of(other)

    granted = await gql(GRANT, {"r": [{"templateId": "TPL_ORDER_STATUS", "accepted": True},
                                      {"templateId": "TPL_ORDER_SHIPPED", "accepted": False}]})
    remaining = {g["templateId"]: g["remaining"] for g in granted["data"]["recordSubscriptions"]}
    assert remaining["TPL_ORDER_STATUS"] == 1 and remaining["TPL_ORDER_SHIPPED"] == 0
    async with httpx.AsyncClient(base_url=stack.wechat.url) as client:  # the user's accept, as WeChat records it
        (await client.post("/__sim/grants", json={"openid": openid, "template_id": "TPL_ORDER_STATUS"})).raise_for_status()

    order = await open_order(gql)
    assert (await gql(FOLLOW, {"id": order["id"], "on": True}))["data"]["followOrder"] is True  # 订阅此订单
    assert (await other(FOLLOW_ALL))["data"]["updateNotificationSettings"]["followAll"] is True  # 订阅全部订单
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()  # first sight of the order: snapshot only
    assert await sim_messages(stack, openid) == []

    await change_order(stack, order["id"], "produce")  # 未开始 -> 进行中, and all produced
    assert await watcher.run_cycle() >= 2  # a status change and production done
    sent = await wait_for_messages(stack, openid, 1)
    assert len(sent) == 1
    message = sent[0]
    assert message["template_id"] == "TPL_ORDER_STATUS"
    assert message["page"].startswith(f"pages/order/order?id={order['id']}&msg=")
    assert message["data"]["character_string1"] == order["code"]
    for key, value in message["data"].items():
        assert violation(key_type(key) or "", value) is None

    # WeChat has the message before the outbox records it sent (and spends the grant in that
    # transaction): wait for that record, not for a guess of how long it takes.
    def status_grants(answer: dict[str, Any]) -> int:
        return int({g["templateId"]: g["remaining"] for g in answer["data"]["subscriptionGrants"]}["TPL_ORDER_STATUS"])

    grants = await eventually(lambda: gql("{ subscriptionGrants { templateId remaining } }"),
                              lambda answer: status_grants(answer) == 0, 30)
    assert status_grants(grants) == 0
    async with httpx.AsyncClient(base_url=stack.wechat.url) as client:
        sim_grants = (await client.get("/__sim/grants", params={"openid": openid})).json()["grants"]
    assert [g["count"] for g in sim_grants if g["template_id"] == "TPL_ORDER_STATUS"] == [0]

    # The message centre: both changes, named by their order, read or unread only (no outbox state);
    # the badge counts the rows marked unread.
    centre = (await gql(MESSAGES))["data"]["messages"]
    mine = [m for m in centre["items"] if m["orderId"] == order["id"]]
    assert sorted(m["kind"] for m in mine) == ["order_status", "production_done"], [(m["title"], m["kind"]) for m in centre["items"]]
    assert all(m["title"].startswith(order["code"]) and m["state"] is None for m in mine)
    assert centre["unread"] == sum(not m["read"] for m in centre["items"]) >= 2
    sent_row = next(m for m in mine if m["kind"] == "order_status")
    assert sent_row["read"] is False and sent_row["page"] == message["page"]
    assert sent_row["title"] == f"{order['code']} 进行中（原未开始）"
    msg_id = message["page"].split("msg=")[1]
    assert (await gql("mutation($id: ID!) { markMessageRead(id: $id) }", {"id": msg_id}))["data"]["markMessageRead"] is True
    after = (await gql(MESSAGES))["data"]["messages"]
    assert next(m for m in after["items"] if m["id"] == msg_id)["read"] is True
    assert after["unread"] == centre["unread"] - 1

    # Without a grant nothing is sent, and the skip is logged with its reason.
    assert await sim_messages(stack, other_openid) == []
    others = [m for m in (await other(MESSAGES))["data"]["messages"]["items"] if m["orderId"] == order["id"]]
    assert others
    async with stack.services.db.session() as s:
        rows = (await s.exec(select(MessageLog).where(MessageLog.openid == other_openid,
                                                     MessageLog.order_id == order["id"]))).all()
    assert rows and all(r.msg_status == "skipped" and "no subscription grant" in (r.error_detail or "") for r in rows)

    # The same change is not seen twice: another cycle emits nothing, so nothing is pending that
    # could be sent later (checked in the outbox, not by waiting for what should not come).
    assert await watcher.run_cycle() == 0
    async with stack.services.db.session() as s:
        pending = (await s.exec(select(MessageLog).where(MessageLog.openid == openid,
                                                        col(MessageLog.msg_status).in_((MessageState.QUEUED, MessageState.SENDING))))).all()
    assert pending == []
    assert len(await sim_messages(stack, openid)) == 1


async def test_timeline_gains_observed_status_changes(stack: DemoStack, gql: GraphQLClient) -> None:
    order = await open_order(gql)
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()
    await change_order(stack, order["id"], "produce")
    await watcher.run_cycle()
    answer = await gql("query($id: ID!) { order(id: $id) { timeline { kind title at detail } } }", {"id": order["id"]})
    steps = answer["data"]["order"]["timeline"]
    production = next(s for s in steps if s["kind"] == "PRODUCTION")
    assert production["at"] is not None  # 未开始 → 进行中, observed: when production started
    times = [s["at"] for s in steps if s["at"]]
    assert times == sorted(times)


async def test_following_order_a_not_b_messages_a_only_and_spends_no_grant_on_b(
    stack: DemoStack, http: httpx.AsyncClient
) -> None:
    """Through the watcher and the WeChat simulator: B's change sends nothing and spends nothing;
    A's sends one message that names A."""
    customer = stack.demo["customer"]
    gql = GraphQLClient(http, await stack.login(unique_user("follow"), customer["invite_code"]))
    openid = await openid_of(gql)
    await gql(GRANT, {"r": [{"templateId": "TPL_ORDER_STATUS", "accepted": True}] * 2})
    async with httpx.AsyncClient(base_url=stack.wechat.url) as client:
        for _ in range(2):
            (await client.post("/__sim/grants", json={"openid": openid, "template_id": "TPL_ORDER_STATUS"})).raise_for_status()
    page = (await gql("{ orders(status: NOT_STARTED, pageSize: 50) { items { id code } } }"))["data"]["orders"]["items"]
    a, b = page[-2], page[-3]
    await gql(FOLLOW, {"id": a["id"], "on": True})
    detail = "query($id: ID!) { order(id: $id) { followed } }"
    assert (await gql(detail, {"id": a["id"]}))["data"]["order"]["followed"] is True
    assert (await gql(detail, {"id": b["id"]}))["data"]["order"]["followed"] is False
    cards = "{ orders(status: NOT_STARTED, pageSize: 50) { items { id followed timeline { kind } } } }"
    on_page = (await gql(cards))["data"]["orders"]["items"]  # one batch for the page's follows and events
    assert [o["id"] for o in on_page if o["followed"]] == [a["id"]]
    assert all(o["timeline"][0]["kind"] == "ORDERED" for o in on_page)
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()

    await change_order(stack, b["id"], "start")
    assert await watcher.run_cycle() >= 1
    remaining = {g["templateId"]: g["remaining"] for g in (await gql("{ subscriptionGrants { templateId remaining } }"))["data"]["subscriptionGrants"]}
    assert remaining["TPL_ORDER_STATUS"] == 2  # B's change spent nothing
    assert not [m for m in (await gql(MESSAGES))["data"]["messages"]["items"] if m["orderId"] == b["id"]]

    await change_order(stack, a["id"], "start")
    assert await watcher.run_cycle() >= 1
    sent = await wait_for_messages(stack, openid, 1)
    assert len(sent) == 1 and sent[0]["data"]["character_string1"] == a["code"]
    assert sent[0]["page"].startswith(f"pages/order/order?id={a['id']}&msg=")
    titles = [m["title"] for m in (await gql(MESSAGES))["data"]["messages"]["items"]]
    assert titles == [f"{a['code']} 进行中（原未开始）"]
    # WeChat has the message before the outbox records it sent and spends the grant (one
    # transaction): wait for that record, not for a guess of how long it takes.
    grants = await eventually(lambda: gql("{ subscriptionGrants { templateId remaining } }"),
                              lambda answer: {g["templateId"]: g["remaining"] for g in answer["data"]["subscriptionGrants"]}
                              ["TPL_ORDER_STATUS"] != 2, 30)
    remaining = {g["templateId"]: g["remaining"] for g in grants["data"]["subscriptionGrants"]}
    assert remaining["TPL_ORDER_STATUS"] == 1

    await gql(FOLLOW, {"id": a["id"], "on": False})  # unfollowed: nothing more
    assert (await gql(detail, {"id": a["id"]}))["data"]["order"]["followed"] is False


async def test_a_status_the_erp_answers_unreadably_is_no_change() -> None:
    """A status of an unforeseen shape degrades that field only: while it lasts, and when it
    reads again, the watcher records no change (no "未开始（原状态未知）" to purchasers); a real
    change afterwards is one event, from the last status it could read."""
    async with (
        custom_stack() as stack,
        httpx.AsyncClient(base_url=stack.url, timeout=10) as http,
        httpx.AsyncClient(base_url=stack.erp.url, timeout=10) as erp_http,
    ):
        gql = GraphQLClient(http, stack.token)
        order = await open_order(gql)
        assert (await gql(FOLLOW, {"id": order["id"], "on": True}))["data"]["followOrder"] is True
        watcher, sim = stack.services.notify.watcher, Sim(erp_http)

        async def titles() -> list[str]:
            async with stack.services.db.session() as s:
                rows = await s.exec(select(OrderEvent).where(col(OrderEvent.order_id) == order["id"]))
                return [row.detail and json.loads(row.detail)["remark"] for row in rows.all()]

        await watcher.run_cycle()  # first sight: snapshot only
        await sim.dialect(statuses="unknown")
        await watcher.run_cycle()
        await sim.reset_dialect()
        await watcher.run_cycle()
        assert await titles() == []
        await change_order(stack, order["id"], "start")
        assert await watcher.run_cycle() == 1
        assert await titles() == ["未开始→进行中"]
