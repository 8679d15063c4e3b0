"""Sequential ERP round trips, ERP calls and ERP bytes per purchaser page, per protocol dialect.

    .venv/bin/python bench/roundtrips.py [--iterations 3] [--erp-latency-ms 150] [--dialects NAME ...]

For each dialect a fresh demo stack on loopback (SQLite, memory cache), its ERP simulator
speaking that dialect from the start. Each page is sent as the mini program sends it (its
trusted document by ``documentId``, from bff/web/persisted-documents.json), one purchaser
waiting, and measured three ways:

- sequential ERP round trips, counted on the simulator's own timeline of the request at L ms per
  call: a call waited on another when it started after that one was answered; the round trips are
  the longest such chain (exact while the BFF starts side-by-side calls within L of each other,
  whatever the machine's load). Beside it, for comparison, the latency method: (median BFF
  latency at L − median at 0 ms) / L, the two latencies alternating request by request;
- ERP calls: the simulator's own counter (``/__sim/stats``, reset before each request);
- ERP bytes: the body bytes of the simulator's answers to those calls (``/__sim/stats``'s
  ``bytes``), shown in KB of 1,024 bytes.

Each page is first sent twice (the ERP session, the week-long carrier cache and the reads
started in the background settle), then ``--iterations`` times at each latency; calls and bytes
are the medians of the 0 ms requests. Histories: the demo customer as seeded (every page), a
customer brought to 140 deliveries and the demo customer brought to 5,000 (``POST
/__sim/history``: older deliveries, so the same 20 newest orders; home and order detail).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from common import bench_settings, document_ids

from bff.demo import DemoStack, start_demo_stack

HONOURED = {"product_ids": "honoured", "code_filter": "honoured", "line_order_filter": "honoured"}
DIALECTS: dict[str, dict[str, str]] = {
    "evidence (default)": {},
    "product_ids honoured": {"product_ids": "honoured"},
    "code_filter honoured": {"code_filter": "honoured"},
    "line_order_filter honoured": {"line_order_filter": "honoured"},
    "product_ids refused": {"product_ids": "refused"},
    "most convenient": {**HONOURED, "attachments_in_list": "yes", "logistics_in_list": "yes"},
    "order_rates frozen": {"order_rates": "frozen"},
    "order_rates frozen, line_order_filter honoured": {"order_rates": "frozen", "line_order_filter": "honoured"},
}
REFERENCE = "most convenient"  # every answer is compared with this dialect's
OTHER_CUSTOMER_DELIVERIES = 140  # "about 140": the second customer topped up to this
LONG_HISTORY = 5000  # the demo customer topped up to this

# Ids of the orders and materials the pages are asked about: read once per customer, outside
# the measurements (the bench runs in the test environment, which takes documents as text).
PICK = """{ orders(page: 1, pageSize: 20) { items { id code shipments { id } materials { id name } } } }"""


@dataclass(frozen=True)
class Page:
    name: str
    document: str  # operation name of the trusted document
    variables: Callable[[dict[str, str]], dict[str, Any]]
    histories: bool = False  # also measured for the longer histories
    first_view: bool = False  # the BFF's cache emptied before each request (carriers, files, names)


PAGES = [
    Page("home: 20 order cards (Home)", "Home", lambda ids: {"pageSize": 20}, histories=True),
    Page("home filtered 未发货 (Home, `shipping: NOT_SHIPPED`)", "Home",
         lambda ids: {"pageSize": 20, "shipping": "NOT_SHIPPED"}, histories=True),
    Page("home filtered 已逾期 (Home, `shipping: OVERDUE`)", "Home",
         lambda ids: {"pageSize": 20, "shipping": "OVERDUE"}, histories=True),
    Page("order detail by id (OrderDetail)", "OrderDetail", lambda ids: {"id": ids["order"]}, histories=True),
    Page("order detail by id, first view (OrderDetail, cache empty)", "OrderDetail", lambda ids: {"id": ids["order"]},
         first_view=True),
    Page("order detail by number (RestOrderStatus, `code`)", "RestOrderStatus", lambda ids: {"code": ids["code"]}),
    Page("search: an order number (Orders)", "Orders",
         lambda ids: {"keyword": ids["code"], "page": 1, "pageSize": 20}),
    Page("search: a material name (Orders)", "Orders",
         lambda ids: {"keyword": ids["material_name"], "page": 1, "pageSize": 20}),
    Page("one shipment's lines (ShipmentLines)", "ShipmentLines", lambda ids: {"id": ids["shipment"]}),
    Page("material page (MaterialProgress)", "MaterialProgress", lambda ids: {"id": ids["material"]}),
]


def chain_length(calls: list[dict[str, Any]]) -> int:
    """The longest chain of calls each started after the previous was answered."""
    ordered = sorted((c for c in calls if c.get("end") is not None), key=lambda c: c["start"])
    depth: list[int] = []
    for n, call in enumerate(ordered):
        before = [depth[m] for m in range(n) if ordered[m]["end"] <= call["start"]]
        depth.append(1 + max(before, default=0))
    return max(depth, default=0)


@dataclass
class Cell:
    round_trips: float
    calls: float
    kb: float
    errors: list[str] = field(default_factory=list)  # GraphQL errors, a changed answer: flagged ⚠
    bff_calls: float = 0.0  # extensions.erp.calls, for a footnote when it differs from the simulator's count
    data: Any = None  # the answer's data, less what moves by itself (steady())
    label: str = ""  # whose history

    chained: float = 0.0  # round trips on the simulator's timeline (chain_length)

    def show(self) -> str:
        return f"{self.chained:g} ({self.round_trips:.1f}) / {self.calls:g} / {self.kb:.1f}"


@dataclass
class Customer:
    label: str
    token: str
    ids: dict[str, str]
    deliveries: int


class Bench:
    def __init__(self, stack: DemoStack, documents: dict[str, str], latency_ms: float, iterations: int) -> None:
        self.stack = stack
        self.documents = documents
        self.latency_ms = latency_ms
        self.iterations = iterations
        self.bff = httpx.AsyncClient(base_url=stack.url, timeout=120)
        self.erp = httpx.AsyncClient(base_url=stack.erp.url, timeout=120)

    async def close(self) -> None:
        await self.bff.aclose()
        await self.erp.aclose()

    async def control(self, path: str, body: dict[str, Any] | None = None) -> Any:
        answer = await (self.erp.post(path, json=body) if body is not None else self.erp.get(path))
        answer.raise_for_status()
        return answer.json()

    async def quiet(self, still_s: float = 0.3) -> None:
        """Wait until the simulator has seen no call for ``still_s`` (reads in the background done)."""
        seen = -1
        for _ in range(100):
            total = (await self.control("/__sim/stats"))["total"]
            if total == seen:
                return
            seen = total
            await asyncio.sleep(still_s)

    async def ask(self, token: str, document: str, variables: dict[str, Any]) -> tuple[float, dict[str, Any]]:
        body = {"documentId": self.documents[document], "variables": variables}
        started = time.perf_counter()
        answer = await self.bff.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}"})
        elapsed = time.perf_counter() - started
        answer.raise_for_status()
        result: dict[str, Any] = answer.json()
        return elapsed, result

    async def customer(self, label: str, token: str, customer_id: str, ids: dict[str, str] | None = None) -> Customer:
        """The ids its pages are asked about (``ids``, or read now): the order of the first page
        with the most shipments (as bench/orders.py), its first material and its first shipment."""
        deliveries = sum(1 for d in self.stack.erp_sim.forms[100039].values() if d["customerOrSupplierId"] == customer_id)
        if ids is not None:
            return Customer(label, token, ids, deliveries)
        answer = await self.bff.post("/graphql", json={"query": PICK}, headers={"Authorization": f"Bearer {token}"})
        items = answer.json()["data"]["orders"]["items"]
        order = max(items, key=lambda o: len(o["shipments"]))
        material = order["materials"][0]
        ids = {"order": order["id"], "code": order["code"], "material": material["id"],
               "material_name": material["name"], "shipment": order["shipments"][0]["id"],
               "shipments": str(len(order["shipments"]))}
        return Customer(label, token, ids, deliveries)

    async def measure(self, customer: Customer, page: Page, reference: Cell | None = None) -> Cell:
        """One page's figures; with ``reference`` (the same page of the same customer with a
        shorter history), whether the answer's data is still the same."""
        variables = page.variables(customer.ids)
        await self.control("/__sim/faults", {"latency_ms": 0})
        for _ in range(2):  # settle: the session, caches, reads started in the background
            await self.ask(customer.token, page.document, variables)
            await self.quiet()
        fast: list[float] = []
        slow: list[float] = []
        chains: list[int] = []
        calls: list[int] = []
        sizes: list[int] = []
        bff_calls: list[int] = []
        errors: list[str] = []
        for _ in range(self.iterations):
            await self.control("/__sim/faults", {"latency_ms": 0})
            if page.first_view:
                await self.stack.services.cache.clear()
            await self.control("/__sim/stats/reset", {})
            elapsed, answer = await self.ask(customer.token, page.document, variables)
            stats = await self.control("/__sim/stats")
            fast.append(elapsed)
            calls.append(int(stats["total"]))
            sizes.append(int(stats["bytes"]))
            bff_calls.append(int(((answer.get("extensions") or {}).get("erp") or {}).get("calls", -1)))
            errors += [f"GraphQL error: {e.get('message')}" for e in answer.get("errors") or []]
            data = steady(answer.get("data"))
            await self.control("/__sim/faults", {"latency_ms": self.latency_ms})
            if page.first_view:
                await self.stack.services.cache.clear()
            await self.control("/__sim/stats/reset", {})
            elapsed, answer = await self.ask(customer.token, page.document, variables)
            slow.append(elapsed)
            chains.append(chain_length((await self.control("/__sim/stats"))["calls"]))
            errors += [f"GraphQL error: {e.get('message')}" for e in answer.get("errors") or []]
        await self.control("/__sim/faults", {"latency_ms": 0})
        await self.quiet()  # reads the page started in the background end before the next page
        round_trips = (statistics.median(slow) - statistics.median(fast)) * 1000 / self.latency_ms
        if reference is not None and None not in (data, reference.data) and steady(data, "total") != steady(reference.data, "total"):  # older orders were added
            errors.append(f"the answer's data differs from the {reference.label} one (the same newest orders): "
                          f"{difference(steady(data, 'total'), steady(reference.data, 'total'))}")
        return Cell(round_trips, statistics.median(calls), statistics.median(sizes) / 1024,
                    sorted(set(errors)), statistics.median(bff_calls), data, customer.label, statistics.median(chains))


async def run_dialect(name: str, changes: dict[str, str], documents: dict[str, str], latency_ms: float,
                      iterations: int) -> tuple[dict[tuple[str, str], Cell], list[str]]:
    """Every row of one dialect's column, on a stack of its own (nothing learnt carries over),
    and what was measured on (customers, deliveries, ids)."""
    stack = await start_demo_stack(base_settings=bench_settings())
    bench = Bench(stack, documents, latency_ms, iterations)
    column: dict[tuple[str, str], Cell] = {}
    try:
        # The ids are read in the default dialect (some dialects break the reads they come from).
        demo = stack.erp_sim.demo_info()
        demo_id, other_id = demo["customer"]["id"], demo["other_customer"]["id"]
        seeded = await bench.customer("demo customer as seeded", stack.token, demo_id)
        other_now = sum(1 for d in stack.erp_sim.forms[100039].values() if d["customerOrSupplierId"] == other_id)
        await bench.control("/__sim/history", {"customer": other_id, "deliveries": OTHER_CUSTOMER_DELIVERIES - other_now})
        token = await stack.login("bench-other-purchaser", demo["other_customer"]["invite_code"])
        other = await bench.customer(f"customer {other_id}, {OTHER_CUSTOMER_DELIVERIES} deliveries", token, other_id)
        await bench.control("/__sim/dialect", changes)
        # The ids were read in the default dialect: what the BFF learnt of it goes (the live ERP does
        # not change dialect under a running BFF; an ERP error would make it forget as well).
        stack.services.guesses.forget()
        stack.services.delivery_lines.list_usable = None

        for page in PAGES:
            column[page.name, seeded.label] = await bench.measure(seeded, page)
        await bench.control("/__sim/history", {"customer": demo_id, "deliveries": LONG_HISTORY - seeded.deliveries})
        # Older history leaves the newest orders as they were: the same ids, and answers that must not change.
        long = await bench.customer(f"demo customer, {LONG_HISTORY:,} deliveries", stack.token, demo_id, seeded.ids)
        for page in PAGES:
            if page.histories:
                column[page.name, other.label] = await bench.measure(other, page)
                column[page.name, long.label] = await bench.measure(long, page, column[page.name, seeded.label])
        notes = [f"{c.label}: {c.deliveries:,} deliveries; {c.ids}" for c in (seeded, other, long)]
    finally:
        await bench.close()
        await stack.stop()
    print(f"  {name}: done", file=sys.stderr, flush=True)
    return column, notes


def steady(value: Any, *also: str) -> Any:
    """An answer's data without what changes from one request to the next (asOf, systemStatus)
    and the keys ``also`` named."""
    if isinstance(value, dict):
        return {k: steady(v, *also) for k, v in value.items() if k not in ("asOf", "systemStatus", *also)}
    if isinstance(value, list):
        return [steady(v, *also) for v in value]
    return value


def difference(value: Any, reference: Any, path: str = "") -> str:
    """Where two answers first differ, and how many leaves differ in all (for a footnote)."""
    found: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if isinstance(a, dict) and isinstance(b, dict):
            for key in dict.fromkeys([*a, *b]):
                walk(a.get(key), b.get(key), f"{at}.{key}" if at else key)
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for n, (x, y) in enumerate(zip(a, b, strict=True)):
                walk(x, y, f"{at}[{n}]")
        elif a != b:
            show = [repr(v) if not isinstance(v, list) else f"{len(v)} items" for v in (a, b)]
            found.append(f"{at or '(the answer)'}: {show[0][:60]} (here) against {show[1][:60]}")

    walk(value, reference, path)
    return f"{found[0]}" + (f", and {len(found) - 1} more" if len(found) > 1 else "") if found else "?"


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


async def main(latency_ms: float, iterations: int, names: list[str]) -> None:
    documents = document_ids()
    started = time.perf_counter()
    columns: dict[str, dict[tuple[str, str], Cell]] = {}
    for name in names:
        columns[name], notes = await run_dialect(name, DIALECTS[name], documents, latency_ms, iterations)
    took = time.perf_counter() - started

    print(f"Machine: {os.cpu_count()} cores ({cpu_model()}), {platform.system()} {platform.release()}, "
          f"Python {platform.python_version()}; BFF, simulators and this client in one process on loopback, "
          f"SQLite, memory cache. ERP simulator latency {latency_ms:.0f} ms per call against 0 ms; "
          f"{iterations} iterations per latency, page and dialect; run took {took:.0f} s.\n")
    for note in notes:
        print(f"- {note}")
    print("\nEach cell: sequential ERP round trips on the simulator's timeline (by the latency method) / ERP calls / "
          "KB of ERP answers (1 KB = 1,024 bytes).\n")
    print("| page | history | " + " | ".join(names) + " |")
    print("|---|---|" + "---|" * len(names))
    footnotes: dict[str, int] = {}  # problem -> its number; one number for the same problem in many cells
    rows = sorted(columns[names[0]], key=lambda row: [p.name for p in PAGES].index(row[0]))  # stable: history order kept
    for page, history in rows:
        cells = []
        for name in names:
            cell = columns[name][page, history]
            reference = columns[REFERENCE][page, history].data if REFERENCE in columns else None
            if name != REFERENCE and None not in (cell.data, reference) and cell.data != reference:  # errors: said above
                cell.errors.append(f"the answer's data differs from the {REFERENCE} dialect's: "
                                   f"{difference(cell.data, reference)}")
            if cell.bff_calls >= 0 and cell.bff_calls != cell.calls:
                cell.errors.append(f"the BFF's extensions.erp counted {cell.bff_calls:g} calls, the simulator {cell.calls:g}")
            marks = [footnotes.setdefault(problem[:400], len(footnotes) + 1) for problem in cell.errors]
            cells.append(cell.show() + "".join(f" ⚠{n}" for n in marks))
        print(f"| {page} | {history} | " + " | ".join(cells) + " |")
    if footnotes:
        print()
        for problem, n in footnotes.items():
            print(f"- ⚠{n}: {problem}")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--erp-latency-ms", type=float, default=150)
    parser.add_argument("--iterations", type=int, default=3, help="requests per latency, page and dialect")
    parser.add_argument("--dialects", nargs="+", choices=list(DIALECTS), default=list(DIALECTS), metavar="NAME",
                        help=f"a subset of: {', '.join(repr(n) for n in DIALECTS)}")
    args = parser.parse_args()
    asyncio.run(main(args.erp_latency_ms, args.iterations, args.dialects))
