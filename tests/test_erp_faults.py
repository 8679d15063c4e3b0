"""The ERP misbehaving: expired sessions, malformed data, outages, hangs."""

from __future__ import annotations

import time

import httpx
import pytest

from bff.demo import DemoStack
from tests.monitor.helpers import custom_stack
from tests.support import GraphQLClient, Sim, error_code, unique_user

SEARCH = "query($k: String) { orders(keyword: $k, pageSize: 10) { total stale cacheHit asOf items { id code } } }"


@pytest.mark.backend  # stale answers come from the cache (memory or Redis)
async def test_expired_erp_session_means_one_new_login_and_no_error(gql: GraphQLClient, sim: Sim) -> None:
    await gql("{ orders(pageSize: 1) { total } }")
    logins = await sim.logins()
    (await sim.client.post("/__sim/sessions/expire")).raise_for_status()
    payloads = [await gql("{ orders(pageSize: 3) { total items { materials { id } } } }") for _ in range(3)]
    assert all("errors" not in p for p in payloads)
    assert await sim.logins() == logins + 1


async def test_malformed_erp_data_is_erp_data_invalid_never_500(gql: GraphQLClient, http: httpx.AsyncClient, stack: DemoStack, sim: Sim) -> None:
    await sim.faults(malformed_rate=1.0)
    payload = await gql("{ orders(keyword: \"malformed-check\") { total } }")
    assert error_code(payload) == "ERP_DATA_INVALID"
    rest = await http.get("/api/orders/search", params={"keyword": "malformed-rest"}, headers={"Authorization": f"Bearer {stack.token}"})
    assert rest.status_code == 502 and rest.json()["error"]["code"] == "ERP_DATA_INVALID"


@pytest.mark.backend  # stale answers come from the cache (memory or Redis)
async def test_outage_serves_stale_data_where_kept_else_unavailable(gql: GraphQLClient, sim: Sim) -> None:
    live = await gql(SEARCH, {"k": None})
    assert live["data"]["orders"]["stale"] is False
    await sim.faults(outage=True)
    started = time.monotonic()
    stale = await gql(SEARCH, {"k": None})
    elapsed = time.monotonic() - started
    page = stale["data"]["orders"]
    assert page["stale"] is True and page["cacheHit"] is True
    assert page["items"] == live["data"]["orders"]["items"]
    assert page["asOf"] <= live["data"]["orders"]["asOf"] or page["asOf"]
    assert stale["extensions"]["stale"]["asOf"]
    assert elapsed < 3.0
    never_asked = await gql(SEARCH, {"k": "SO-never-asked-" + unique_user()})
    assert error_code(never_asked) == "ERP_UNAVAILABLE"


async def test_hanging_erp_answers_within_the_deadline() -> None:
    """With the ERP time limits as deployed (the shared stack's give a busy machine more room)."""
    limits = {"erp_timeout_s": 2.0, "erp_deadline_s": 2.5, "erp_request_budget_s": 2.7, "erp_pool_wait_s": 1.0}
    async with custom_stack(**limits) as stack, httpx.AsyncClient(base_url=stack.url, timeout=30) as http, \
            httpx.AsyncClient(base_url=stack.erp.url, timeout=30) as control:
        await Sim(control).faults(hang_s=10)
        started = time.monotonic()
        payload = await GraphQLClient(http, stack.token)(SEARCH, {"k": "hang-" + unique_user()})
        elapsed = time.monotonic() - started
        await Sim(control).reset_faults()  # the hanging answer ends now: the stack stops at once
    assert error_code(payload) == "ERP_UNAVAILABLE"
    assert elapsed <= 3.0, elapsed
