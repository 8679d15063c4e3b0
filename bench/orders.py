"""Per-operation ERP calls and latency percentiles against the ERP simulator.

    .venv/bin/python bench/orders.py --erp-latency-ms 100 --iterations 50 [--dialect key=value ...]

Starts the demo stack on loopback (SQLite, memory cache), sets the simulator's latency and
protocol dialect (docs/erp-protocol.md), then runs each operation sequentially (one user
waiting: the latency a purchaser sees) and prints a Markdown table: ERP calls per operation (counted by the simulator) and
p50/p95/p99 of the BFF's response time.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import time

import httpx
from common import bench_settings

from bff.demo import start_demo_stack

PROGRESS = "ordered produced shipped producedRatio shippedRatio stage"
OPERATIONS = {
    "home page (20 orders + materials + shipments)": (
        f"""{{ orders(page: 1, pageSize: 20) {{ total items {{ id code status deliveryStatus shippedRate
            progress {{ {PROGRESS} }} materials {{ id name progress {{ {PROGRESS} }} }}
            shipments {{ id trackingNumber logisticsCompany }} }} }} }}""",
        None,
    ),
    "order detail (timeline, materials, shipments)": (
        f"""query($id: ID!) {{ order(id: $id) {{ id code status progress {{ {PROGRESS} }}
            timeline {{ kind at done current }} materials {{ id name progress {{ {PROGRESS} }} }}
            shipments {{ id code trackingNumber logisticsCompany remark attachments {{ url }} }} }} }}""",
        "order",
    ),
    "order detail + every shipment's lines": (
        """query($id: ID!) { order(id: $id) { id shipments { id lines { id name quantity } } } }""",
        "order",
    ),
    "material progress": (
        f"""query($id: ID!) {{ material(id: $id) {{ id name progress {{ {PROGRESS} }} shipments {{ id code }} }} }}""",
        "material",
    ),
    "keyword search (material name)": (
        """{ orders(keyword: "轴承", pageSize: 20) { total items { id code } } }""",
        None,
    ),
    "me (profile)": ("{ me { nickname binding { company { name } } } }", None),
}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


async def main(latency_ms: float, iterations: int, dialect: list[str]) -> None:
    stack = await start_demo_stack(base_settings=bench_settings())
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.url, headers=headers, timeout=30) as bff, httpx.AsyncClient(
        base_url=stack.erp.url
    ) as erp:
        changes = dict(pair.split("=", 1) for pair in dialect)
        (await erp.post("/__sim/dialect", json=changes)).raise_for_status()
        first = (await bff.post("/graphql", json={"query": OPERATIONS["home page (20 orders + materials + shipments)"][0]})).json()
        # an order with the most shipments on the page: the figures must not grow with them
        order = max(first["data"]["orders"]["items"], key=lambda o: len(o["shipments"]))
        order_id = order["id"]
        material_id = first["data"]["orders"]["items"][0]["materials"][0]["id"]
        ids = {"order": order_id, "material": material_id}
        await erp.post("/__sim/faults", json={"latency_ms": latency_ms})
        print(f"machine: {platform.machine()}, {platform.system()} {platform.release()}, "
              f"Python {platform.python_version()}; ERP simulator latency {latency_ms:.0f} ms per call; "
              f"{iterations} sequential iterations per operation; dialect {changes or 'evidence (default)'}; "
              f"the order has {len(order['shipments'])} shipments\n")
        print("| operation | ERP calls | p50 ms | p95 ms | p99 ms |")
        print("|---|---|---|---|---|")
        for name, (query, id_kind) in OPERATIONS.items():
            variables = {"id": ids[id_kind]} if id_kind else {}
            timings: list[float] = []
            calls: list[int] = []
            for _ in range(iterations):
                started = time.perf_counter()
                answer = (await bff.post("/graphql", json={"query": query, "variables": variables})).json()
                timings.append((time.perf_counter() - started) * 1000)
                assert "errors" not in answer, answer["errors"]
                calls.append(answer["extensions"]["erp"]["calls"])
            print(f"| {name} | {statistics.median(calls):g} | {percentile(timings, 0.5):.0f} | "
                  f"{percentile(timings, 0.95):.0f} | {percentile(timings, 0.99):.0f} |")
    await stack.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--erp-latency-ms", type=float, default=100)
    parser.add_argument("--iterations", type=int, default=50)
    parser.add_argument("--dialect", action="append", default=[], help="a simulator dialect key=value (repeatable)")
    args = parser.parse_args()
    asyncio.run(main(args.erp_latency_ms, args.iterations, args.dialect))
