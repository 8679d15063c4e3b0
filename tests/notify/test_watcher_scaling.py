"""The change watcher scales with changes, not customers, and its work is shared across instances.

- One batched read of every bound customer's open orders per cycle; lines and deliveries only
  for the orders whose digest moved (or that wait for a dispatch), over the real simulator.
- Partitioned leases: two watchers on one database split the partitions; a dead one's are taken
  over within one tick after its ttl, a stopped one's at once; a holder that cannot renew stops.
- Two real BFF processes (``bff serve``) on one database: SIGKILL one, the other holds every
  partition within the ttl plus a heartbeat (short ttl, polled with a deadline).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from sqlmodel import col, select

from bff.core.clock import aware
from bff.demo import DemoStack, start_demo_stack
from bff.erp.guesses import GuessState
from bff.notify.partitions import PREFIX, partition_of
from bff.notify.watcher import Watcher
from bff.services import watcher_config
from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp import create_app as create_erp_app
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app
from bff.store import migrate
from bff.store.db import Database
from bff.store.tables import ErpBinding, OrderEvent, OrderSnapshot, WorkerLease
from bff.web.serving import start_server
from tests.support import (
    MYSQL_URL,
    Sim,
    create_mysql_database,
    drop_mysql_database,
    erp_calls,
    eventually,
    free_port,
    make_settings,
    require_service,
    unique_user,
)

# Backend: snapshots, digests and partition leases are database rows claimed by conditional
# UPDATEs, whose atomicity and locking differ between SQLite and MariaDB.
pytestmark = pytest.mark.backend

ROOT = Path(__file__).resolve().parents[2]
ORDERS, LINES, DELIVERIES = "100001", "100185", "100039"


async def form_calls(sim: Sim) -> dict[str, int]:
    return {k: int(v) for k, v in (await sim.client.get("/__sim/stats")).json()["forms"].items()}


def delta(after: dict[str, int], before: dict[str, int]) -> dict[str, int]:
    return {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before) if after.get(k, 0) != before.get(k, 0)}


async def bound_customers(stack: DemoStack) -> set[str]:
    async with stack.services.db.session() as s:
        return {str(c) for c in (await s.exec(select(ErpBinding.company_id).where(
            ErpBinding.is_valid == True, ErpBinding.role == "purchaser"))).all() if c}  # noqa: E712


async def test_one_change_among_many_orders_costs_detail_reads_for_that_order_only(stack: DemoStack, sim: Sim) -> None:
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()  # baselines
    quiet_before = await form_calls(sim)
    calls, _ = await erp_calls(stack, sim, watcher.run_cycle)  # nothing changed since
    quiet_spent = delta(await form_calls(sim), quiet_before)
    quiet = watcher.last_cycle
    customers = await bound_customers(stack)
    forms = stack.erp_sim.forms[int(ORDERS)]
    open_orders = [o for o in forms.values() if str(o["customerId"]) in customers and o["status"] in (1, 2)]
    assert quiet.customers == len(customers) and quiet.orders == len(open_orders) > 40  # many orders watched
    pending = set(quiet.detailed)  # orders with a packed, not yet dispatched delivery: re-read each cycle
    assert len(pending) < len(open_orders) / 4

    def owners(order_ids: set[str]) -> set[str]:
        return {str(forms[i]["customerId"]) for i in order_ids}

    # One read of every customer's open orders; the waiting ones' lines (the evidence: one read per
    # order) and their customers' newest deliveries (one read per customer).
    assert calls == 1 + len(pending) + len(owners(pending)), (calls, pending, quiet_spent)

    changed = next(o for o in open_orders if o["status"] == 1 and o["id"] not in pending)
    (await sim.client.post(f"/__sim/orders/{changed['id']}", json={"status": 2})).raise_for_status()
    before = await form_calls(sim)
    calls_after, emitted = await erp_calls(stack, sim, watcher.run_cycle)
    spent = delta(await form_calls(sim), before)
    assert emitted == 1  # 未开始 → 进行中
    assert watcher.last_cycle.detailed == pending | {changed["id"]}  # that order's lines and deliveries, no other
    detailed = pending | {changed["id"]}
    assert spent.get(ORDERS) == 1, spent  # every bound customer's open orders: one read
    assert spent.get(LINES) == len(detailed), spent  # the lines of the orders re-read, one read each
    # Their customers' newest deliveries, and an order older than those by its number (evidence).
    assert len(owners(detailed)) <= spent.get(DELIVERIES, 0) <= len(owners(detailed)) + len(detailed), spent
    assert calls_after == sum(spent.values()), (calls_after, spent)


async def test_a_dispatch_that_leaves_the_order_row_unchanged_is_still_seen(stack: DemoStack, sim: Sim) -> None:
    """是否发货 flips on the delivery; the order's status and rates stand still (its shippedQuantity
    counted the packed goods already): the watcher re-reads orders waiting for a dispatch."""
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()
    await watcher.run_cycle()
    waiting = sorted(watcher.last_cycle.detailed)
    assert waiting, "the seed has an order awaiting dispatch (SO2026112001)"
    deliveries = stack.erp_sim.forms[int(DELIVERIES)]
    order_id, packed = next(
        (o, d) for o in waiting for d in deliveries.values()
        if o in str(d.get("salesOrderIds") or d.get("salesOrderId") or "").split(",") and not d.get("是否发货"))
    row_before = dict(stack.erp_sim.forms[int(ORDERS)][order_id])
    packed["是否发货"] = True  # dispatched, in the ERP
    try:
        assert await watcher.run_cycle() >= 1
        assert stack.erp_sim.forms[int(ORDERS)][order_id] == row_before  # the order row did not move
        async with stack.services.db.session() as session:
            events = (await session.exec(select(OrderEvent).where(col(OrderEvent.order_id) == order_id))).all()
        assert any(e.kind == "order_shipped" and e.new_value == packed["id"] for e in events)
    finally:
        packed["是否发货"] = False  # as seeded, for the other tests (a dispatch back is no event)
        await watcher.run_cycle()


async def test_orders_that_leave_the_open_set_cost_one_read_and_end_their_snapshot(stack: DemoStack, sim: Sim) -> None:
    watcher = stack.services.notify.watcher
    await watcher.run_cycle()
    customers = await bound_customers(stack)
    forms = stack.erp_sim.forms[int(ORDERS)]
    done = next(o for o in forms.values() if str(o["customerId"]) in customers and o["status"] == 2)
    (await sim.client.post(f"/__sim/orders/{done['id']}", json={"action": "complete"})).raise_for_status()
    before = await form_calls(sim)
    assert await watcher.run_cycle() >= 1  # 进行中 → 已完成
    assert delta(await form_calls(sim), before).get(ORDERS) == 2  # the open orders, then how the gone one ended
    async with stack.services.db.session() as s:
        assert await s.get(OrderSnapshot, done["id"]) is None  # final: no longer watched


@pytest.mark.parametrize("answer", ["ignored", "nothing"])
async def test_one_read_per_customer_once_the_erp_is_seen_ignoring_a_customer_list(
    stack: DemoStack, sim: Sim, answer: str,
) -> None:
    """The ``customer_list`` guess (bff/notify/watch_reads.py): where the ERP answers a customerId
    list with every customer's orders (``ignored``) or with nothing although one customer asked
    alone has orders (``nothing``), the watcher learns it in the cycle it happens, reads one
    customer at a time from then on, sees the change, and loses no snapshot on the way."""
    watcher = stack.services.notify.watcher
    guess = stack.services.guesses.customer_list
    await stack.login(unique_user("other-company"), stack.demo["other_customer"]["invite_code"])
    customers = await bound_customers(stack)
    assert len(customers) == 2
    await watcher.run_cycle()
    assert guess.state is GuessState.HOLDS  # the default dialect keeps to the list
    async with stack.services.db.session() as s:
        kept = {row.order_id for row in (await s.exec(select(OrderSnapshot))).all()}
    await sim.dialect(customer_list=answer)
    try:
        forms = stack.erp_sim.forms[int(ORDERS)]
        changed = next(o for o in forms.values() if str(o["customerId"]) in customers and o["status"] == 1)
        (await sim.client.post(f"/__sim/orders/{changed['id']}", json={"status": 2})).raise_for_status()
        assert await watcher.run_cycle() >= 1  # seen in the very cycle the list failed
        assert guess.state is GuessState.IGNORED
        async with stack.services.db.session() as s:
            assert {row.order_id for row in (await s.exec(select(OrderSnapshot))).all()} >= kept - {changed["id"]}
        before = await form_calls(sim)
        await watcher.run_cycle()
        assert delta(await form_calls(sim), before).get(ORDERS) == len(customers)  # one read per customer, no list
    finally:
        await sim.reset_dialect()
        stack.services.guesses.forget()


# --- partitioned leases -----------------------------------------------------------------------


class FakeClock:
    def __init__(self, stack: DemoStack) -> None:
        self.now = stack.services.notify.clock()

    def __call__(self):  # type: ignore[no-untyped-def]
        return self.now


@pytest_asyncio.fixture(params=["sqlite", "mariadb"])
async def own_stack(request: pytest.FixtureRequest) -> AsyncIterator[DemoStack]:
    """A stack of its own (its own database): the leases here must not meet the shared stack's."""
    handle = None
    if request.param == "mariadb":
        require_service(MYSQL_URL, 3306, "MariaDB")
        url, handle = await create_mysql_database()
        settings = make_settings(database_url=url)
    else:
        settings = make_settings()
    stack = await start_demo_stack(base_settings=settings)
    try:
        bound = 0
        for customer in stack.erp_sim.forms[100004].values():  # every customer that may bind: several partitions busy
            try:
                await stack.login(unique_user("part"), customer["微信邀请码"])
                bound += 1
            except httpx.HTTPStatusError:
                pass  # a disabled customer
        assert bound >= 3
        yield stack
    finally:
        await stack.stop()
        if handle is not None:
            await drop_mysql_database(handle)
        else:
            path = settings.database_url.split("///", 1)[1]
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)


def second_watcher(stack: DemoStack, name: str) -> Watcher:
    """Another BFF instance's watcher on the same database and ERP."""
    s, n = stack.services, stack.services.notify
    return Watcher(s.db, s.erp, s.logistics, n.outbox, n.prefs, n.templates, watcher_config(s.settings), instance=name)


async def test_two_watchers_split_the_partitions_and_a_dead_ones_are_taken_over(own_stack: DemoStack) -> None:
    stack = own_stack
    a = stack.services.notify.watcher
    await a.stop()  # no background loop: this test drives both instances' ticks itself
    clock = FakeClock(stack)
    b = second_watcher(stack, "instance-b")
    a.clock = b.clock = clock
    count = stack.settings.watch_partitions

    assert await a.partitions.tick() == set(range(count))  # alone: all of them
    assert await b.partitions.tick() == set()  # none free yet
    await a.partitions.tick()  # sees two live watchers: keeps its share, gives back the rest
    await b.partitions.tick()
    held_a, held_b = a.partitions.holds(), b.partitions.holds()
    assert held_a.isdisjoint(held_b) and held_a | held_b == set(range(count))
    assert len(held_a) == len(held_b) == count // 2

    # Each customer is watched by exactly one of them.
    await a.run_cycle()
    await b.run_cycle()
    customers = await bound_customers(stack)
    assert a.last_cycle.customers + b.last_cycle.customers == len(customers) > 1
    assert a.last_cycle.customers and b.last_cycle.customers
    async with stack.services.db.session() as s:
        snapshots = (await s.exec(select(OrderSnapshot))).all()
    assert {partition_of(r.customer_id, count) for r in snapshots} <= held_a | held_b
    assert a.last_cycle.orders + b.last_cycle.orders == len({r.order_id for r in snapshots})

    # B dies: no renewal. Within its ttl nothing moves; past it, A's next tick takes all over.
    ttl = timedelta(seconds=stack.settings.watch_lease_ttl_s)
    clock.now += ttl - timedelta(seconds=1)
    await a.partitions.tick()
    assert a.partitions.holds() == held_a
    clock.now += timedelta(seconds=2)
    assert b.partitions.holds() == set()  # B's own clock says its leases ended: it would stop working
    assert await a.partitions.tick() == set(range(count))

    # B comes back and gets its share again; then stops: its partitions are back at once.
    await b.partitions.tick()
    await a.partitions.tick()
    assert len(await b.partitions.tick()) == count // 2
    await b.stop()  # never started: stop() still gives the leases back
    assert await a.partitions.tick() == set(range(count))


async def test_a_cycle_on_a_lease_it_could_not_renew_does_no_work(own_stack: DemoStack) -> None:
    stack = own_stack
    a = stack.services.notify.watcher
    await a.stop()
    clock = FakeClock(stack)
    a.clock = clock
    b = second_watcher(stack, "instance-b")
    b.clock = clock
    assert await a.partitions.tick()
    # A's leases expire unrenewed (a stalled instance) and B takes them.
    clock.now += timedelta(seconds=stack.settings.watch_lease_ttl_s + 1)
    assert await b.partitions.tick() == set(range(stack.settings.watch_partitions))
    assert a.partitions.holds() == set()
    stats_before = a.last_cycle
    assert await a._watch(set(range(stack.settings.watch_partitions))) == 0  # renews first: holds none
    assert a.last_cycle is not stats_before and a.last_cycle.customers == 0


# --- two real BFF processes ---------------------------------------------------------------------


def spawn(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bff.cli", "serve", "--port", str(free_port())], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def holders(db: Database) -> dict[str, set[str]]:
    """Live partition leases by holder (by the database's view of now: the test's wall clock)."""
    from bff.core.clock import utc_now

    now = utc_now()
    async with db.session() as s:
        rows = (await s.exec(select(WorkerLease).where(col(WorkerLease.name).startswith(PREFIX)))).all()
    found: dict[str, set[str]] = {}
    for row in rows:
        if ":member:" not in row.name and aware(row.expires_at) >= now:
            found.setdefault(row.holder, set()).add(row.name)
    return found


async def poll(db: Database, done: Any, deadline_s: float) -> dict[str, set[str]]:
    return await eventually(lambda: holders(db), done, deadline_s, interval_s=0.1)


@pytest.mark.early
@pytest.mark.parametrize("backend", ["sqlite", "mariadb"])
async def test_two_bff_processes_split_and_a_killed_ones_share_is_taken_over(backend: str, tmp_path: Path) -> None:
    handle = None
    if backend == "mariadb":
        require_service(MYSQL_URL, 3306, "MariaDB")
        url, handle = await create_mysql_database()
    else:
        url = f"sqlite+aiosqlite:///{tmp_path}/two.sqlite3"
    db = Database(url)
    processes: list[subprocess.Popen[bytes]] = []
    ttl, count = 2.0, 8
    erp_sim, wechat_sim = ErpSim(ErpSimConfig()), WechatSim(WechatSimConfig())
    erp = await start_server(create_erp_app(sim=erp_sim), port=0)
    wechat = await start_server(create_wechat_app(sim=wechat_sim), port=0)
    try:
        await migrate.upgrade(db)
        demo = erp_sim.demo_info()
        env = {**os.environ, "BFF_ENV": "test", "BFF_DATABASE_URL": url, "BFF_REDIS_URL": "",
               "BFF_WX_BASE_URL": wechat.url, "BFF_WX_SECRET": wechat_sim.config.secret,
               "BFF_ERP_LOGIN_URL": erp.url, "BFF_ERP_BASE_URL": erp.url,
               "BFF_ERP_ACCOUNT": demo["service"]["account"], "BFF_ERP_PASSWORD": demo["service"]["password"],
               "BFF_ERP_PROBE_INTERVAL_S": "3600", "BFF_WATCH_INTERVAL_S": "3600",
               "BFF_WATCH_PARTITIONS": str(count), "BFF_WATCH_LEASE_TTL_S": str(ttl)}
        processes = [spawn(env), spawn(env)]
        split = await poll(db, lambda h: len(h) == 2 and all(len(v) == count // 2 for v in h.values()), 60)
        assert len(split) == 2 and sorted(len(v) for v in split.values()) == [count // 2] * 2, split

        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
        loop = asyncio.get_running_loop()
        killed_at = loop.time()
        after = await poll(db, lambda h: len(h) == 1 and len(next(iter(h.values()))) == count, 30)
        took = loop.time() - killed_at
        assert len(after) == 1 and len(next(iter(after.values()))) == count, after
        assert set(after) <= set(split)
        assert took <= ttl + ttl / 4 + 5, took  # the ttl, one heartbeat, and room for a busy machine; far below 30 s

        processes[1].send_signal(signal.SIGTERM)  # a clean stop gives its partitions back at once
        processes[1].wait(timeout=30)
        assert await holders(db) == {}
    finally:
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()
        await db.dispose()
        await wechat.stop()
        await erp.stop()
        if handle is not None:
            await drop_mysql_database(handle)


async def test_an_erp_outage_costs_one_warning_per_cycle_and_no_traceback(
    stack: DemoStack, sim: Sim, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The ERP client raises its own exceptions (ErpUnavailable), not BffError: the outage branch
    must see them. One batch per customer here, so a per-batch log line would show as several."""
    watcher = stack.services.notify.watcher
    monkeypatch.setattr(watcher, "_config", dataclasses.replace(watcher._config, customers_per_read=1))
    await stack.login(unique_user("watch-other"), stack.demo["other_customer"]["invite_code"])  # a second customer
    await watcher.run_cycle()  # baselines
    customers = await bound_customers(stack)
    assert len(customers) >= 2, customers
    forms = stack.erp_sim.forms[int(ORDERS)]
    changed = next(o for o in forms.values() if str(o["customerId"]) in customers and o["status"] == 1)
    await sim.faults(outage=True)
    (await sim.client.post(f"/__sim/orders/{changed['id']}", json={"status": 2})).raise_for_status()
    caplog.clear()
    with caplog.at_level("WARNING", logger="bff.notify.watcher"):
        assert await watcher.run_cycle() == 0
    mine = [r for r in caplog.records if r.name == "bff.notify.watcher"]
    assert [r.levelname for r in mine] == ["WARNING"], [(r.levelname, r.getMessage()) for r in mine]
    assert not any(r.exc_info for r in mine)
    assert f"{len(customers)} of {len(customers)} customers not watched" in mine[0].getMessage()
    assert "ErpUnavailable" in mine[0].getMessage()

    await sim.reset_faults()
    stack.services.erp.breaker.reset()
    assert await watcher.run_cycle() >= 1  # the change made during the outage is seen once the ERP is back
    async with stack.services.db.session() as s:
        events = (await s.exec(select(OrderEvent).where(col(OrderEvent.order_id) == changed["id"]))).all()
    assert any(e.kind == "order_status" and e.new_value == "IN_PROGRESS" for e in events), [(e.kind, e.new_value) for e in events]
