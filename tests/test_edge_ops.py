"""Issue 19, operational endpoints: /metrics private (a token, or loopback only) and rendered at
most once per BFF_OPS_REFRESH_S off the event loop; readiness cheap under a flood (no ERP
request while the pool is in use, worked out at most once per BFF_OPS_REFRESH_S)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from starlette.applications import Starlette

from bff.demo import DemoStack
from tests.edge_support import client_from, reverse_proxy
from tests.monitor.helpers import custom_stack

TOKEN = "metrics-token-0123456789abcdefghijkl"
HOME = "{ orders(pageSize: 20) { total stale items { id code status } } }"
FLOOD_CONNECTIONS = 20
FLOOD_EACH = 40


def _app(stack: DemoStack) -> Starlette:
    app = stack.bff.server.config.app
    assert isinstance(app, Starlette)
    return app


async def test_metrics_need_the_token() -> None:
    async with custom_stack(metrics_token=TOKEN) as stack, httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        anonymous = await http.get("/metrics")
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer " + "x" * 36})
        scraper = await http.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert anonymous.status_code == 403 and anonymous.json()["error"]["code"] == "FORBIDDEN"
    assert wrong.status_code == 403
    assert scraper.status_code == 200 and "bff_admission" in scraper.text


async def test_without_a_token_metrics_answer_loopback_clients_only() -> None:
    """Behind a trusted proxy the client is the forwarded one: a request from the internet is
    not local because the proxy is."""
    async with (
        custom_stack(trusted_proxies="127.0.0.0/8") as stack,  # the proxy and the hops before it
        reverse_proxy(stack.url) as proxy,
        client_from("127.0.0.4", proxy.url) as via_proxy,
        httpx.AsyncClient(base_url=stack.url, timeout=10) as local,
    ):
        internet = await via_proxy.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"})
        sidecar = await local.get("/metrics")
    assert internet.status_code == 403
    assert sidecar.status_code == 200


async def test_a_flood_of_probes_and_scrapes_costs_no_erp_request_and_few_renders() -> None:
    async with custom_stack(metrics_token=TOKEN, ops_refresh_s=1.0) as stack:
        pool_checks = _count_calls(stack.services.erp.primary, "pool_wedged")
        async with httpx.AsyncClient(base_url=stack.url, timeout=30, limits=httpx.Limits(max_connections=100)) as http:
            purchaser = {"Authorization": f"Bearer {stack.token}"}
            assert (await http.post("/graphql", json={"query": HOME}, headers=purchaser)).status_code == 200
            erp_before = stack.erp_sim.total
            ready_before = (await http.get("/api/health/check")).json()
            started = time.monotonic()

            async def hammer(path: str, headers: dict[str, str]) -> list[int]:
                return [(await http.get(path, headers=headers)).status_code for _ in range(FLOOD_EACH)]

            floods = await asyncio.gather(
                *(hammer("/metrics", {"Authorization": f"Bearer {TOKEN}"}) for _ in range(FLOOD_CONNECTIONS)),
                *(hammer("/api/health/check", {}) for _ in range(FLOOD_CONNECTIONS)),
            )
            elapsed = time.monotonic() - started
            erp_after = stack.erp_sim.total
        renders = _app(stack).state.metrics.renders
    assert ready_before["ready"] is True
    assert all(status == 200 for flood in floods for status in flood)
    assert erp_after == erp_before  # no ERP call from 800 probes
    assert pool_checks == []  # the pool had answered: no reachability request to prove it
    # One render per second at most, plus the first (2 000 scrapes would have been 2 000 renders).
    assert renders <= elapsed / 1.0 + 2, (renders, elapsed)


def _count_calls(target: Any, name: str) -> list[int]:
    """Counts calls of ``target.name`` (in the list it returns) from now on."""
    calls: list[int] = []
    original = getattr(target, name)

    async def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return await original(*args, **kwargs)

    setattr(target, name, counted)
    return calls
