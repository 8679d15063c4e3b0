"""Several BFF instances: a lease taken over from a dead holder, never the same row sent twice,
and a watcher cycle whose ERP cost stays below the old per-customer bound (the watcher's
partitions and its change-proportional cost: tests/notify/test_watcher_scaling.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from sqlmodel import col, select

from bff.demo import DemoStack
from bff.notify.lease import Lease
from bff.notify.outbox import MessageState, NewMessage, Outbox
from bff.services import outbox_config
from bff.store.tables import ErpBinding, MessageLog
from tests.notify.helpers import sim_messages
from tests.support import GraphQLClient, Sim, unique_user

# On MariaDB + Redis too: leases and claims on the outbox are row locks in the store.
pytestmark = pytest.mark.backend


class Clock:
    def __init__(self, stack: DemoStack) -> None:
        self.now = stack.services.notify.clock()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


async def test_a_dead_holders_lease_is_taken_over(stack: DemoStack) -> None:
    clock = Clock(stack)
    name = "test-lease-" + unique_user()
    first = Lease(stack.services.db, name, "instance-a", ttl_s=30, clock=clock)
    second = Lease(stack.services.db, name, "instance-b", ttl_s=30, clock=clock)
    assert await first.acquire() is True
    assert await second.acquire() is False
    clock.now += timedelta(seconds=20)
    assert await first.acquire() is True  # the holder renews
    clock.now += timedelta(seconds=29)
    assert await second.acquire() is False  # renewed 29 s ago: still held
    clock.now += timedelta(seconds=2)  # the holder died: no renewal for 31 s
    assert await second.acquire() is True
    assert await first.acquire() is False


async def test_two_workers_on_one_queue_send_each_message_once(stack: DemoStack, http: httpx.AsyncClient) -> None:
    users = [GraphQLClient(http, await stack.login(unique_user("multi"))) for _ in range(12)]
    openids = [str((await u("{ me { openid } }"))["data"]["me"]["openid"]) for u in users]
    services = stack.services
    async with httpx.AsyncClient(base_url=stack.wechat.url) as wx:
        for openid in openids:
            (await wx.post("/__sim/grants", json={"openid": openid, "template_id": "TPL_ORDER_STATUS"})).raise_for_status()
            await services.notify.grants.add(openid, ["TPL_ORDER_STATUS"])
    data = {"character_string1": "SO2026000001", "thing2": "测试", "phrase3": "进行中", "time4": "2026年11月24日 10:00", "thing5": "无"}
    queue = services.notify.outbox
    await queue.enqueue([
        NewMessage(openid=o, template_id="TPL_ORDER_STATUS", data=data, dedupe_key=f"multi:{o}", page="pages/order/order?id=1")
        for o in openids
    ])
    other = Outbox(services.db, services.wechat, outbox_config(services.settings))  # a second BFF instance on the same database

    async def pending() -> int:
        async with services.db.session() as s:
            return len((await s.exec(select(MessageLog.msg_id).where(
                col(MessageLog.openid).in_(openids), col(MessageLog.msg_status).in_((MessageState.QUEUED, MessageState.SENDING))))).all())

    async def drain(outbox: Outbox) -> None:
        for _ in range(50):
            if not await outbox.drain_once():
                if not await pending():
                    return  # every message final: nothing is left that could be sent again
                await asyncio.sleep(0.02)

    await asyncio.gather(drain(queue), drain(other), drain(queue))
    for openid in openids:
        assert len(await sim_messages(stack, openid)) == 1, openid


async def test_a_watcher_cycle_costs_reads_per_customer_not_per_order(stack: DemoStack, sim: Sim) -> None:
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()  # the first cycle only records snapshots
    async with stack.services.db.session() as s:
        bound = set((await s.exec(
            select(ErpBinding.company_id).where(ErpBinding.is_valid == True, ErpBinding.role == "purchaser")  # noqa: E712
        )).all())
    open_orders = [
        o for o in stack.erp_sim.forms[100001].values()
        if str(o["customerId"]) in bound and o["status"] not in (4, 5)
    ]
    before = await sim.calls()
    await watcher.run_cycle()
    calls = await sim.calls() - before
    assert len(open_orders) > 4 * len(bound)  # reading per order would cost far more
    assert calls <= 4 * len(bound), (calls, len(bound), len(open_orders))
