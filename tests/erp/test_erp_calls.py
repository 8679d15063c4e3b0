"""ErpCall records for listeners, and the per-request erp_call_scope counter."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from erp_fake import FakeErp, ok

from bff.erp import SALES_ORDERS, ErpCall, ErpClient, SalesOrderRecord, current_erp_stats, erp_call_scope
from bff.erp.errors import ErpDataInvalid, ErpUnavailable

pytestmark = pytest.mark.asyncio


async def test_listener_sees_every_call_with_outcome(client: ErpClient, erp: FakeErp) -> None:
    calls: list[ErpCall] = []
    client.add_listener(calls.append)
    await client.list(SALES_ORDERS, model=SalesOrderRecord)
    assert [(c.endpoint, c.outcome) for c in calls] == [
        ("login", "ok"), ("open-app", "ok"), ("open-app", "ok"), ("getBusinessPageList", "ok"),
    ]
    assert calls[-1].form_id == SALES_ORDERS and calls[0].form_id is None
    assert all(c.latency_ms >= 0 and c.started_at.tzinfo is not None and c.attempt == 1 for c in calls)

    calls.clear()
    erp.expire()
    await client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
    assert [c.outcome for c in calls] == ["expired", "ok", "ok", "ok", "ok"]

    calls.clear()
    answers = iter([httpx.Response(503), ok({"_dataList": "not a list"})])
    erp.handlers["getBusinessPageList"] = lambda body: next(answers)
    with pytest.raises(ErpDataInvalid):
        await client.list(SALES_ORDERS, model=SalesOrderRecord, page=2)
    assert [(c.outcome, c.attempt) for c in calls] == [("transient", 1), ("invalid", 2)]


async def test_timeout_outcome(client: ErpClient, erp: FakeErp) -> None:
    await client.list(SALES_ORDERS, model=SalesOrderRecord)
    calls: list[ErpCall] = []
    client.add_listener(calls.append)
    erp.business["getBusinessPageList"].side_effect = httpx.ReadTimeout("slow")
    with pytest.raises(ErpUnavailable):
        await client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
    assert calls and {c.outcome for c in calls} == {"timeout"}


async def test_broken_listener_does_not_break_reads(client: ErpClient, erp: FakeErp) -> None:
    def broken(call: ErpCall) -> None:
        raise RuntimeError("listener bug")

    seen: list[ErpCall] = []
    client.add_listener(broken)
    client.add_listener(seen.append)
    assert (await client.list(SALES_ORDERS, model=SalesOrderRecord)).count == 1
    assert len(seen) == 4


async def test_scope_counts_calls_of_spawned_tasks(client: ErpClient, erp: FakeErp) -> None:
    assert current_erp_stats() is None
    await client.list(SALES_ORDERS, model=SalesOrderRecord)  # login outside any scope
    with erp_call_scope() as stats:
        assert current_erp_stats() is stats
        await client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
        assert stats.calls == 1
        await asyncio.gather(*(client.list(SALES_ORDERS, model=SalesOrderRecord, page=n) for n in (2, 3)))
        await asyncio.create_task(client.list(SALES_ORDERS, model=SalesOrderRecord, page=4))
    assert stats.calls == 4 and stats.ms > 0
    assert current_erp_stats() is None
    await client.list(SALES_ORDERS, model=SalesOrderRecord, page=5)
    assert stats.calls == 4  # nothing counted after the scope closed


async def test_scopes_are_per_request(client: ErpClient, erp: FakeErp) -> None:
    await client.list(SALES_ORDERS, model=SalesOrderRecord)

    async def request(pages: int) -> int:
        with erp_call_scope() as stats:
            for n in range(pages):
                await client.list(SALES_ORDERS, model=SalesOrderRecord, page=100 * pages + n)
            return stats.calls

    assert await asyncio.gather(request(1), request(3)) == [1, 3]
