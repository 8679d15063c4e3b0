"""Isolation matrix: every field and route taking an id or code, given another company's."""

from __future__ import annotations

import httpx
import pytest

from bff.demo import DemoStack
from tests.support import GraphQLClient, error_code, other_company_ids

# On MariaDB + Redis too: the company scope comes from stored bindings, and cached reads are keyed per customer.
pytestmark = pytest.mark.backend

async def test_isolation_matrix(http: httpx.AsyncClient, stack: DemoStack) -> None:
    other = await other_company_ids(http, stack)
    mine = GraphQLClient(http, stack.token)
    secrets = [other["order_code"], other["name"], other["tracking"]]

    graphql_cases = {
        "order(id)": ("query($v: ID!) { order(id: $v) { id code } }", other["order_id"]),
        "order(code)": ("query($v: String!) { order(code: $v) { id code } }", other["order_code"]),
        "material(id)": ("query($v: ID!) { material(id: $v) { id name } }", other["material_id"]),
        "material(id).shipments": ("query($v: ID!) { material(id: $v) { shipments { id } } }", other["material_id"]),
        "order(id).materials": ("query($v: ID!) { order(id: $v) { materials { id } shipments { id } } }", other["order_id"]),
        "shipment(id)": ("query($v: ID!) { shipment(id: $v) { id code trackingNumber } }", other["shipment_id"]),
        "shipment(id).lines": ("query($v: ID!) { shipment(id: $v) { lines { name quantity } } }", other["shipment_id"]),
    }
    for name, (query, value) in graphql_cases.items():
        payload = await mine(query, {"v": value})
        assert error_code(payload) == "NOT_FOUND", name
        assert payload["data"] is None or all(v is None for v in payload["data"].values()), name
        assert not any(s and s in str(payload) for s in secrets), name

    keyword = await mine("query($k: String) { orders(keyword: $k) { total items { code } } }", {"k": other["order_code"]})
    assert keyword["data"]["orders"] == {"total": 0, "items": []}

    headers = {"Authorization": f"Bearer {stack.token}"}
    routes = [
        f"/api/orders/{other['order_id']}/status",
        f"/api/orders/{other['order_id']}/materials",
        f"/api/materials/{other['material_id']}/progress",
        f"/api/files/{other['shipment_id']}/0/x",
    ]
    if other["attachment"]:
        routes.append(other["attachment"])
    for route in routes:
        answer = await http.get(route, headers=headers)
        assert answer.status_code == 404, route
        assert answer.json()["error"]["code"] == "NOT_FOUND", route
        assert not any(s and s in answer.text for s in secrets), route
    search = await http.get("/api/orders/search", params={"keyword": other["order_code"]}, headers=headers)
    assert search.json()["total"] == 0 and search.json()["orders"] == []


async def test_a_missing_order_looks_exactly_like_a_foreign_one(http: httpx.AsyncClient, stack: DemoStack) -> None:
    other = await other_company_ids(http, stack)
    headers = {"Authorization": f"Bearer {stack.token}"}
    foreign = await http.get(f"/api/orders/{other['order_id']}/status", headers=headers)
    missing = await http.get("/api/orders/999999999/status", headers=headers)
    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["error"]["message"] == missing.json()["error"]["message"]
