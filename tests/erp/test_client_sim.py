"""ErpClient against the ERP simulator over loopback: the real wire, sessions and faults."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.erp import (
    CUSTOMERS,
    DELIVERIES,
    LOGISTICS,
    ORDER_LINES,
    SALES_ORDERS,
    CustomerRecord,
    DeliveryRecord,
    ErpClient,
    ErpClientConfig,
    LogisticsCompanyRecord,
    OrderLineRecord,
    SalesOrderRecord,
    queries,
)
from bff.erp.errors import ErpDataInvalid, ErpLoginRefused, ErpUnavailable
from bff.sim.erp import ErpSim, ErpSimConfig, create_app
from bff.web.serving import RunningServer, start_server

pytestmark = pytest.mark.asyncio

LIST = "/business/getBusinessPageList"


@dataclass
class SimErp:
    server: RunningServer
    control: httpx.AsyncClient
    client: ErpClient
    demo: dict[str, Any]

    async def stats(self) -> dict[str, Any]:
        return (await self.control.get("/__sim/stats")).json()

    async def reset_stats(self) -> None:
        (await self.control.post("/__sim/stats/reset")).raise_for_status()

    async def faults(self, **faults: Any) -> None:
        (await self.control.post("/__sim/faults", json=faults)).raise_for_status()

    async def expire(self) -> None:
        (await self.control.post("/__sim/sessions/expire")).raise_for_status()


async def _sim_erp(
    session_idle_s: float = 1800, clock: Callable[[], float] = time.monotonic
) -> tuple[RunningServer, httpx.AsyncClient, dict[str, Any]]:
    server = await start_server(create_app(sim=ErpSim(ErpSimConfig(session_idle_s=session_idle_s), clock=clock)))
    control = httpx.AsyncClient(base_url=server.url, timeout=10)
    demo = (await control.get("/__sim/demo")).json()
    return server, control, demo


def _client(url: str, demo: dict[str, Any]) -> ErpClient:
    return ErpClient(ErpClientConfig(
        login_url=url, base_url=url, app_id=demo["app_id"], app_name=demo["app_name"],
        account=demo["service"]["account"], password=demo["service"]["password"],
        timeout_s=0.5, deadline_s=1.5, retries=3,
    ))


@pytest_asyncio.fixture
async def sim() -> AsyncIterator[SimErp]:
    server, control, demo = await _sim_erp()
    client = _client(server.url, demo)
    yield SimErp(server, control, client, demo)
    await client.aclose()
    await control.aclose()
    await server.stop()


async def test_every_form_reads_and_validates(sim: SimErp) -> None:
    client, customer_id = sim.client, sim.demo["customer"]["id"]
    customers = await client.list(CUSTOMERS, model=CustomerRecord, filters={"微信邀请码": sim.demo["customer"]["invite_code"]})
    assert [c.id for c in customers.rows] == [customer_id]
    customer = await client.get(CUSTOMERS, customer_id, model=CustomerRecord)
    assert customer is not None and customer.name == sim.demo["customer"]["name"]

    orders = await client.list(SALES_ORDERS, model=SalesOrderRecord, filters={"customerId": customer_id}, page_size=500)
    assert orders.count == len(orders.rows) > 0
    assert all(o.customerId == customer_id and o.date is not None for o in orders.rows)
    order = await client.get(SALES_ORDERS, orders.rows[0].id, model=SalesOrderRecord)
    assert order is not None and order.code == orders.rows[0].code

    lines = await client.list(ORDER_LINES, model=OrderLineRecord, condition={"form.id": order.id}, page_size=500)
    assert lines.rows and all(line.salesOrderId == order.id for line in lines.rows)

    deliveries = await client.list(
        DELIVERIES, model=DeliveryRecord, filters={"customerOrSupplierId": customer_id}, page_size=500
    )
    assert deliveries.rows and all(d.customerOrSupplierId == customer_id for d in deliveries.rows)
    assert not any(d.carries("attachments") for d in deliveries.rows)  # evidence: in detail only
    details = [await client.get(DELIVERIES, d.id, model=DeliveryRecord) for d in deliveries.rows[:12]]
    detail = next(d for d in details if d is not None and d.attachments)
    assert detail.order_ids() and detail.ship_date is not None
    delivery = detail

    shipment_lines = await client.fetch(queries.lines_of_delivery(delivery.id))  # the evidenced shape
    assert shipment_lines.rows and all(line.productName and line.quantity for line in shipment_lines.rows)

    companies = await client.datasource(
        LOGISTICS.form_id, LOGISTICS.datasource_id, LOGISTICS.col_id, model=LogisticsCompanyRecord
    )
    assert {"顺丰速运", "德邦物流"} <= {c.name for c in companies.rows}

    path = delivery.attachments[0].path
    content, content_type = await client.fetch_file(path)
    assert len(content) == delivery.attachments[0].size  # the size the detail announced
    # The ERP may declare a file generic (the BFF sniffs the bytes: tests/test_attachments_http.py).
    assert content_type.split(";")[0] in ("application/pdf", "image/png", "image/jpeg", "application/octet-stream",
                                          "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")

    assert await client.get(SALES_ORDERS, "999999999", model=SalesOrderRecord) is None
    assert (await sim.stats())["logins"] == 1  # one lazy login served all of it


async def test_verify_account_against_sim(sim: SimErp) -> None:
    await sim.client.probe()
    user = sim.demo["customer"]
    assert await sim.client.verify_account(user["account"], user["password"]) is None
    with pytest.raises(ErpLoginRefused):
        await sim.client.verify_account(user["account"], "not-the-password")
    await sim.reset_stats()
    await sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=3)
    assert (await sim.stats())["logins"] == 0  # the service session survived both


async def test_expiry_is_a_transparent_single_relogin(sim: SimErp) -> None:
    await sim.client.list(SALES_ORDERS, model=SalesOrderRecord)
    await sim.expire()
    await sim.reset_stats()
    pages = await asyncio.gather(*(sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=n, page_size=10) for n in range(10)))
    assert all(p.rows for p in pages)
    stats = await sim.stats()
    assert stats["logins"] == 1
    assert stats["endpoints"][LIST] <= 20  # each read at most met the expiry once and repeated once


async def test_idle_timeout_relogin() -> None:
    now = [time.monotonic()]  # the simulator's clock, moved by the test
    server, control, demo = await _sim_erp(session_idle_s=0.3, clock=lambda: now[0])
    client = _client(server.url, demo)
    try:
        await client.list(SALES_ORDERS, model=SalesOrderRecord)
        now[0] += 0.5  # idle past the simulator's timeout
        assert (await client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)).rows
        assert (await control.get("/__sim/stats")).json()["logins"] == 2
    finally:
        await client.aclose()
        await control.aclose()
        await server.stop()


async def test_transient_faults_are_retried(sim: SimErp) -> None:
    await sim.client.probe()
    await sim.faults(fail_next=2, paths=[LIST])
    await sim.reset_stats()
    assert (await sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)).rows
    assert (await sim.stats())["endpoints"][LIST] == 3


async def test_outage_gives_up_after_retries(sim: SimErp) -> None:
    await sim.client.probe()
    await sim.faults(outage=True, paths=[LIST])
    await sim.reset_stats()
    with pytest.raises(ErpUnavailable):
        await sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
    assert (await sim.stats())["endpoints"][LIST] == 4


async def test_server_errors_give_up_within_deadline(sim: SimErp) -> None:
    await sim.client.probe()
    await sim.faults(error_rate=1.0, paths=[LIST])
    with pytest.raises(ErpUnavailable):
        await sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)


async def test_malformed_answer_is_not_retried(sim: SimErp) -> None:
    await sim.client.probe()
    await sim.faults(malformed_rate=1.0, paths=[LIST])
    await sim.reset_stats()
    with pytest.raises(ErpDataInvalid):
        await sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
    assert (await sim.stats())["endpoints"][LIST] == 1


async def test_hanging_erp_respects_deadline(sim: SimErp) -> None:
    await sim.client.probe()
    await sim.faults(hang_s=2.5, paths=[LIST])
    started = time.monotonic()
    with pytest.raises(ErpUnavailable):
        await sim.client.list(SALES_ORDERS, model=SalesOrderRecord, page=1)
    assert time.monotonic() - started < 2.5  # the deadline (1.5 s) ended it before the hanging answer came
    await sim.control.post("/__sim/faults/reset")


async def test_probe_measures_a_real_call(sim: SimErp) -> None:
    await sim.client.probe()
    await sim.faults(latency_ms=80, paths=[LIST])
    assert await sim.client.probe() >= 80
