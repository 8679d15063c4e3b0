"""Constant work in time: another company's id against an id that exists nowhere.

    .venv/bin/python bench/constant_work.py --erp-latency-ms 50 --iterations 100

Starts the demo stack on loopback (SQLite, memory cache), finds ids of the other company
(as its own purchaser would see them), sets the simulator's latency, then asks for each
foreign and missing id in turn (interleaved, so drift in the machine's load hits both alike)
as the demo purchaser and prints a Markdown table: median and p95 of the BFF's response time
for each, and the difference of the medians. tests/test_constant_work.py proves the ERP reads
are the same; this shows what a timing attacker would see.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time
from typing import Any

import httpx
from common import bench_settings
from orders import percentile  # bench/orders.py

from bff.demo import start_demo_stack

MISSING_ID = "999999999"
MISSING_CODE = "SO-NOWHERE-0000"
OTHER = """{ orders(pageSize: 50) { items { id code materials { id } shipments { id } } } }"""
CASES: dict[str, tuple[str, str, str]] = {  # name: (GraphQL document or REST path, id kind, missing id)
    "order(id)": ("query($v: ID!) { order(id: $v) { id code } }", "order", MISSING_ID),
    "material(id) with shipments": ("query($v: ID!) { material(id: $v) { id shipments { id } } }", "material", MISSING_ID),
    "GET /api/orders/{id}/materials": ("/api/orders/{}/materials", "order", MISSING_ID),
    "GET /api/files/{shipmentId}/0/x": ("/api/files/{}/0/x", "shipment", MISSING_ID),
    "orders(keyword: another company's code)": (
        "query($v: String) { orders(keyword: $v) { total } }", "code", MISSING_CODE),
}


async def _other_company(stack: Any, client: httpx.AsyncClient) -> dict[str, str]:
    token = await stack.login("bench-other", stack.demo["other_customer"]["invite_code"])
    answer = await client.post("/graphql", json={"query": OTHER}, headers={"Authorization": f"Bearer {token}"})
    items = answer.json()["data"]["orders"]["items"]
    shipped = next(o for o in items if o["shipments"])
    return {"order": items[0]["id"], "code": items[0]["code"], "material": items[0]["materials"][0]["id"],
            "shipment": shipped["shipments"][0]["id"], "lines": str(len(items[0]["materials"]))}


async def _timed(client: httpx.AsyncClient, target: str, value: str) -> float:
    started = time.perf_counter()
    if target.startswith("/"):
        answer = await client.get(target.format(value))
        assert answer.status_code == 404, answer.text
    else:
        answer = await client.post("/graphql", json={"query": target, "variables": {"v": value}})
        assert answer.status_code == 200, answer.text
    return (time.perf_counter() - started) * 1000


async def main(latency_ms: float, iterations: int) -> None:
    # one purchaser sends every request here: above the per-user limits
    stack = await start_demo_stack(base_settings=bench_settings(rate_limit_user="100000/minute",
                                                                erp_calls_per_user="1000000/hour"))
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=30) as bff, httpx.AsyncClient(
        base_url=stack.erp.url
    ) as erp:
        other = await _other_company(stack, bff)
        (await erp.post("/__sim/faults", json={"latency_ms": latency_ms})).raise_for_status()
        print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
              f"Python {platform.python_version()}; ERP simulator latency {latency_ms:.0f} ms per call; "
              f"{iterations} requests each for a foreign and a missing id, interleaved; "
              f"the foreign order has {other['lines']} materials\n")
        print("| request | foreign median ms | foreign p95 ms | missing median ms | missing p95 ms | medians differ by ms |")
        print("|---|---|---|---|---|---|")
        for name, (target, kind, missing) in CASES.items():
            foreign: list[float] = []
            absent: list[float] = []
            await _timed(bff, target, other[kind]), await _timed(bff, target, missing)  # warm shared caches
            for _ in range(iterations):
                foreign.append(await _timed(bff, target, other[kind]))
                absent.append(await _timed(bff, target, missing))
            difference = statistics.median(foreign) - statistics.median(absent)
            print(f"| {name} | {statistics.median(foreign):.1f} | {percentile(foreign, 0.95):.1f} | "
                  f"{statistics.median(absent):.1f} | {percentile(absent, 0.95):.1f} | {difference:+.1f} |")
    await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--erp-latency-ms", type=float, default=50)
    parser.add_argument("--iterations", type=int, default=100)
    args = parser.parse_args()
    asyncio.run(main(args.erp_latency_ms, args.iterations))
