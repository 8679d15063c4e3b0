"""A user who rebinds to another company no longer sees, counts, marks or gets the earlier
company's messages (issue 19): the centre and the outbox match messages to the current binding."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from sqlalchemy import true, update
from sqlmodel import col, select

from bff.core.clock import utc_now
from bff.demo import DemoStack
from bff.notify.outbox import NOT_THEIRS, MessageState, NewMessage
from bff.notify.render import CHINA
from bff.store.tables import ErpBinding, MessageLog
from tests.monitor.helpers import BIND
from tests.notify.helpers import FOLLOW, GRANT, MESSAGES, change_order, open_order, openid_of, sim_messages
from tests.support import GraphQLClient, error_code, unique_user

# On MariaDB + Redis too: the outbox and the message centre are rows.
pytestmark = pytest.mark.backend

GRANTS = "{ subscriptionGrants { templateId remaining } }"
MARK = "mutation($id: ID!) { markMessageRead(id: $id) }"


async def test_rebound_user_sees_and_gets_none_of_the_earlier_companys_messages(
    stack: DemoStack, http: httpx.AsyncClient,
) -> None:
    a, b = stack.demo["customer"], stack.demo["other_customer"]
    gql = GraphQLClient(http, await stack.login(unique_user("rebind"), a["invite_code"]))
    openid = await openid_of(gql)
    async with stack.services.db.session() as s:  # bound to A ten minutes ago (MariaDB keeps whole seconds)
        await s.exec(update(ErpBinding).where(col(ErpBinding.openid) == openid, col(ErpBinding.is_valid) == true())
                     .values(bound_at=utc_now() - timedelta(minutes=10)))
    await stack.services.sessions.viewers.changed(openid)
    await gql(GRANT, {"r": [{"templateId": "TPL_ORDER_STATUS", "accepted": True}]})
    async with httpx.AsyncClient(base_url=stack.wechat.url) as client:  # WeChat would take it: not sending is ours
        (await client.post("/__sim/grants", json={"openid": openid, "template_id": "TPL_ORDER_STATUS"})).raise_for_status()
    # Do not disturb now (Beijing time): the message about A's order waits, queued.
    local = utc_now().astimezone(CHINA)
    window = {"s": (local - timedelta(hours=1)).strftime("%H:%M"), "e": (local + timedelta(hours=2)).strftime("%H:%M")}
    await gql("mutation($s: String, $e: String) { updateNotificationSettings(input: {dndStart: $s, dndEnd: $e}) { dndStart } }",
              window)
    order = await open_order(gql)
    await gql(FOLLOW, {"id": order["id"], "on": True})
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()
    await change_order(stack, order["id"], "start")
    assert await watcher.run_cycle() >= 1

    async with stack.services.db.session() as s:
        queued = (await s.exec(select(MessageLog).where(
            MessageLog.openid == openid, MessageLog.msg_status == MessageState.QUEUED))).all()
    assert len(queued) == 1 and queued[0].company_id == str(a["id"])  # the fan-out names the order's company
    held = queued[0]
    before = (await gql(MESSAGES))["data"]["messages"]
    assert [m["id"] for m in before["items"]] == [held.msg_id] and before["unread"] == 1
    # A row without a company (as from before migration 0008), made while bound to A.
    outbox = stack.services.notify.outbox
    legacy = NewMessage(openid=openid, template_id="TPL_ORDER_STATUS", data={}, dedupe_key=f"legacy-a:{openid}",
                        title="旧消息", state=MessageState.SKIPPED)
    await outbox.enqueue([legacy])
    async with stack.services.db.session() as s:  # during the binding to A, well before the rebinding
        await s.exec(update(MessageLog).where(col(MessageLog.msg_id) == legacy.msg_id)
                     .values(created_at=utc_now() - timedelta(minutes=5)))
    assert (await gql(MESSAGES))["data"]["messages"]["unread"] == 2

    rebound = await gql(BIND, {"input": {"inviteCode": b["invite_code"]}})
    assert rebound["data"]["bindCompany"]["bindStatus"] is True

    after = (await gql(MESSAGES))["data"]["messages"]
    assert after["items"] == [] and after["total"] == 0 and after["unread"] == 0
    assert error_code(await gql(MARK, {"id": held.msg_id})) == "NOT_FOUND"
    # A row without a company made after the rebinding is the current binding's.
    fresh = NewMessage(openid=openid, template_id="TPL_ORDER_STATUS", data={}, dedupe_key=f"legacy-b:{openid}",
                       title="新消息", state=MessageState.SKIPPED)
    await outbox.enqueue([fresh])
    now_shown = (await gql(MESSAGES))["data"]["messages"]
    assert [m["id"] for m in now_shown["items"]] == [fresh.msg_id] and now_shown["unread"] == 1

    # The quiet hours end: the queued message about A's order is not sent to B's purchaser.
    async with stack.services.db.session() as s:
        await s.exec(update(MessageLog).where(col(MessageLog.msg_id) == held.msg_id)
                     .values(next_attempt_at=utc_now() - timedelta(seconds=1)))
    outbox.wake()
    settled = await outbox.wait_for(held.msg_id, 30)
    assert settled is not None and settled.msg_status == MessageState.SKIPPED and settled.error_detail == NOT_THEIRS
    assert await sim_messages(stack, openid) == []
    grants = {g["templateId"]: g["remaining"] for g in (await gql(GRANTS))["data"]["subscriptionGrants"]}
    assert grants["TPL_ORDER_STATUS"] == 1  # neither spent nor zeroed
    assert (await gql(MESSAGES))["data"]["messages"]["unread"] == 1

    # Bound to A again: A's messages are theirs again.
    await gql(BIND, {"input": {"inviteCode": a["invite_code"]}})
    shown = [m["id"] for m in (await gql(MESSAGES))["data"]["messages"]["items"]]
    # (``fresh`` may show too on MariaDB: it and this binding can fall in the same stored second.)
    assert held.msg_id in shown and legacy.msg_id not in shown
