"""Helpers of the notification tests: the documents they send, the WeChat simulator's
received messages, and ERP changes made through the simulator's control API."""

from __future__ import annotations

from typing import Any

import httpx

from bff.demo import DemoStack
from tests.support import GraphQLClient, eventually

GRANT = "mutation($r: [SubscriptionResultInput!]!) { recordSubscriptions(results: $r) { templateId remaining } }"
MESSAGES = "{ messages(pageSize: 50) { total unread items { id kind title summary orderId page state read } } }"
FOLLOW = "mutation($id: ID!, $on: Boolean!) { followOrder(id: $id, follow: $on) }"
FOLLOW_ALL = "mutation { updateNotificationSettings(input: {followAll: true}) { followAll } }"


async def openid_of(gql: GraphQLClient) -> str:
    return str((await gql("{ me { openid } }"))["data"]["me"]["openid"])


async def sim_messages(stack: DemoStack, openid: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=stack.wechat.url) as client:
        answer = await client.get("/__sim/messages")
    return [m for m in answer.json()["messages"] if m["touser"] == openid]


async def wait_for_messages(stack: DemoStack, openid: str, count: int, timeout_s: float = 30.0) -> list[dict[str, Any]]:
    return await eventually(lambda: sim_messages(stack, openid), lambda found: len(found) >= count, timeout_s)


async def open_order(gql: GraphQLClient) -> dict[str, Any]:
    page = await gql("{ orders(status: NOT_STARTED, pageSize: 50) { items { id code } } }")
    return dict(page["data"]["orders"]["items"][-1])


async def change_order(stack: DemoStack, order_id: str, action: str) -> None:
    """An ERP change: a simulator action, or ``start`` (未开始 → 进行中, nothing made yet)."""
    change = {"status": 2} if action == "start" else {"action": action}
    async with httpx.AsyncClient(base_url=stack.erp.url) as client:
        answer = await client.post(f"/__sim/orders/{order_id}", json=change)
        answer.raise_for_status()
