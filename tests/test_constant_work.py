"""Constant work: another company's id and an id that exists nowhere cost the same ERP reads,
by every id-taking field and route and by keyword search, so the count (and so the time) of
the answer tells nothing about whether the id exists (issue 10, point 4; the timing is
bench/constant_work.py)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from bff.demo import DemoStack
from tests.support import GraphQLClient, Sim, erp_calls, error_code, other_company_ids

# On MariaDB + Redis too: the ERP reads counted depend on what the cache (memory or Redis) remembers.
pytestmark = pytest.mark.backend

MISSING_ID = "999999999"
MISSING_CODE = "SO-NOWHERE-0000"

GRAPHQL = {
    "order(id)": ("query($v: ID!) { order(id: $v) { id code } }", "order_id", MISSING_ID),
    "order(code)": ("query($v: String!) { order(code: $v) { id code } }", "order_code", MISSING_CODE),
    "order(id) with materials and shipments": (
        "query($v: ID!) { order(id: $v) { materials { id } shipments { id } } }", "order_id", MISSING_ID),
    "material(id)": ("query($v: ID!) { material(id: $v) { id name } }", "material_id", MISSING_ID),
    "material(id) with shipments": ("query($v: ID!) { material(id: $v) { shipments { id } } }", "material_id", MISSING_ID),
}
ROUTES = {
    "/api/orders/{}/status": ("order_id", MISSING_ID),
    "/api/orders/{}/materials": ("order_id", MISSING_ID),
    "/api/materials/{}/progress": ("material_id", MISSING_ID),
    "/api/files/{}/0/x": ("shipment_id", MISSING_ID),
}
KEYWORD = "query($k: String) { orders(keyword: $k) { total items { code } } }"


async def _same_cost(stack: DemoStack, sim: Sim, name: str, send: Callable[[str], Awaitable[Any]],
                     foreign: str, missing: str) -> None:
    await send(foreign), await send(missing)  # warm what every request shares (logistics names, sessions)
    foreign_calls, _ = await erp_calls(stack, sim, lambda: send(foreign))
    missing_calls, _ = await erp_calls(stack, sim, lambda: send(missing))
    assert foreign_calls == missing_calls, f"{name}: foreign {foreign_calls} ERP calls, missing {missing_calls}"


async def test_foreign_and_missing_ids_cost_the_same_erp_reads(
    http: httpx.AsyncClient, stack: DemoStack, sim: Sim
) -> None:
    other = await other_company_ids(http, stack)
    mine = GraphQLClient(http, stack.token)
    headers = {"Authorization": f"Bearer {stack.token}"}

    for name, (query, key, missing) in GRAPHQL.items():
        async def field(value: str, query: str = query, name: str = name) -> None:
            assert error_code(await mine(query, {"v": value})) == "NOT_FOUND", name
        await _same_cost(stack, sim, name, field, other[key], missing)

    for template, (key, missing) in ROUTES.items():
        async def route(value: str, template: str = template) -> None:
            answer = await http.get(template.format(value), headers=headers)
            assert answer.status_code == 404, (template, answer.text)
        await _same_cost(stack, sim, template, route, other[key], missing)

    async def keyword(value: str) -> None:
        assert (await mine(KEYWORD, {"k": value}))["data"]["orders"] == {"total": 0, "items": []}
    await _same_cost(stack, sim, "orders(keyword)", keyword, other["order_code"], MISSING_CODE)

    async def search_route(value: str) -> None:
        answer = await http.get("/api/orders/search", params={"keyword": value}, headers=headers)
        assert answer.status_code == 200 and answer.json()["total"] == 0, answer.text
    await _same_cost(stack, sim, "/api/orders/search?keyword", search_route, other["order_code"], MISSING_CODE)
