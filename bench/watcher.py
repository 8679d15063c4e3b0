"""The change watcher's ERP calls per minute for 10, 100 and 1,000 bound companies, with 1 % of
the open orders changing between two cycles (one cycle a minute, ``BFF_WATCH_INTERVAL_S=60``).

    .venv/bin/python bench/watcher.py [--companies 10 100 1000] [--cycles 3] [--change 0.01] [--dialect key=value ...]

For each size: a fresh demo stack on loopback (ERP simulator, SQLite, memory cache). The
simulator's seeded customers are cloned into ``companies`` customers, each with the open orders
of one seeded customer (their lines, deliveries and delivery lines too: on average 26 open orders
a company, a few with a packed delivery waiting for dispatch); one purchaser is bound to each
company. A first cycle records the baselines; then, ``--cycles`` times: 1 % of the open orders
change in the simulator (started, all produced, or shipped: a new dispatched delivery), one watcher
cycle runs, and the simulator counts the ERP calls it caused (logins and the background logistics
reads it started included). Prints a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import platform
import random
import secrets
import statistics
import time
from collections import defaultdict
from typing import Any

from common import bench_settings

from bff.core.clock import utc_now
from bff.demo import DemoStack, start_demo_stack
from bff.sim.erp import ErpSim
from bff.store.tables import ErpBinding

ORDERS, LINES, DELIVERIES, DELIVERY_LINES, CUSTOMERS = 100001, 100185, 100039, 100041, 100004
OPEN = (1, 2)


def clone_companies(sim: ErpSim, companies: int) -> list[str]:
    """``companies`` new customers, each with a seeded customer's open orders (new ids throughout);
    the seeded orders stay. Returns the new customer ids."""
    forms = sim.forms
    templates = [c for c in forms[CUSTOMERS].values() if not c.get("disable")]
    open_by_customer: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for order in forms[ORDERS].values():
        if order["status"] in OPEN:
            open_by_customer[order["customerId"]].append(order)
    lines_by_order: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in forms[LINES].values():
        lines_by_order[line["salesOrderId"]].append(line)
    dlines_by_delivery: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for dline in forms[DELIVERY_LINES].values():
        dlines_by_delivery[dline["parentId"]].append(dline)
    next_id = iter(range(5_000_000, 50_000_000))
    created = []
    for n in range(companies):
        template = templates[n % len(templates)]
        customer = copy.deepcopy(template)
        customer.update(id=str(next(next_id)), name=f"{template['name']}{n}", 微信邀请码=secrets.token_hex(4).upper())
        forms[CUSTOMERS][customer["id"]] = customer
        created.append(customer["id"])
        order_ids: dict[str, str] = {}
        codes: dict[str, str] = {}
        line_ids: dict[str, str] = {}
        for order in open_by_customer[template["id"]]:
            copy_ = copy.deepcopy(order)
            copy_.update(id=str(next(next_id)), customerId=customer["id"], customerName=customer["name"])
            copy_["code"] = f"SO{copy_['id']}"
            order_ids[order["id"]], codes[order["code"]] = copy_["id"], copy_["code"]
            forms[ORDERS][copy_["id"]] = copy_
            for line in lines_by_order[order["id"]]:
                new_line = copy.deepcopy(line)
                new_line.update(id=str(next(next_id)), salesOrderId=copy_["id"], salesOrderCode=copy_["code"])
                line_ids[line["id"]] = new_line["id"]
                forms[LINES][new_line["id"]] = new_line
        for delivery in list(forms[DELIVERIES].values()):
            carried = [i for i in str(delivery.get("salesOrderIds") or "").split(",") if i]
            if delivery["customerOrSupplierId"] != template["id"] or not carried or not all(i in order_ids for i in carried):
                continue
            new_delivery = copy.deepcopy(delivery)
            new_delivery.update(
                id=str(next(next_id)), customerOrSupplierId=customer["id"], salesOrderId=order_ids[carried[0]],
                salesOrderIds=",".join(order_ids[i] for i in carried),
                orderCodes=",".join(codes.get(c, c) for c in str(delivery.get("orderCodes") or "").split(",") if c),
                salesOrderCode=codes.get(str(delivery.get("salesOrderCode")), delivery.get("salesOrderCode")),
            )
            new_delivery["code"] = f"XSCK{new_delivery['id']}"
            forms[DELIVERIES][new_delivery["id"]] = new_delivery
            for dline in dlines_by_delivery[delivery["id"]]:
                new_dline = copy.deepcopy(dline)
                new_dline.update(
                    id=str(next(next_id)), parentId=new_delivery["id"],
                    salesOrderId=order_ids.get(str(dline.get("salesOrderId")), dline.get("salesOrderId")),
                    salesOrderLineId=line_ids.get(str(dline.get("salesOrderLineId")), dline.get("salesOrderLineId")),
                )
                forms[DELIVERY_LINES][new_dline["id"]] = new_dline
    return created


async def bind(stack: DemoStack, customers: list[str]) -> None:
    """One purchaser per company (rows as a bind writes them; the bind itself is not measured)."""
    now = utc_now()
    async with stack.services.db.session() as s:
        s.add_all([ErpBinding(
            binding_id=secrets.token_hex(16), session_id=secrets.token_hex(16), openid=f"bench-{c}", erp_username="",
            company_id=c, company_name=c, role="purchaser", method="invite", bound_at=now,
        ) for c in customers])


def change_some(sim: ErpSim, customers: set[str], share: float, rng: random.Random) -> int:
    """``share`` of the companies' open orders change: started, all produced, or shipped."""
    open_orders = [o for o in sim.forms[ORDERS].values() if o["customerId"] in customers and o["status"] in OPEN]
    picked = rng.sample(open_orders, max(1, round(share * len(open_orders))))
    for order in picked:
        action = rng.choice(["start", "produce", "ship"])
        try:
            if action == "start" and order["status"] == 1:
                sim.change_order(order["id"], status=2)
            elif action == "ship":
                sim.change_order(order["id"], action="ship")
            else:
                sim.change_order(order["id"], action="produce")
        except ValueError:  # nothing produced to ship: produce instead
            sim.change_order(order["id"], action="produce")
    return len(picked)


KINDS = {"orders": str(ORDERS), "lines": str(LINES), "deliveries": str(DELIVERIES)}


def breakdown(sim: ErpSim) -> dict[str, int]:
    """Calls so far by kind: list reads per form, and delivery details (a new delivery's carrier)."""
    details = sim.endpoints["/business/getBusiness"]
    counts = {kind: sim.form_calls[form] for kind, form in KINDS.items()}
    counts["deliveries"] -= details
    counts["carrier details"] = details
    return counts


async def calls_of(stack: DemoStack, run: Any) -> tuple[int, dict[str, int], float]:
    sim = stack.erp_sim
    before, kinds = sim.total, breakdown(sim)
    started = time.perf_counter()
    await run()
    elapsed = time.perf_counter() - started
    return sim.total - before, {k: v - kinds[k] for k, v in breakdown(sim).items()}, elapsed


async def measure(companies: int, cycles: int, share: float, dialect: dict[str, str]) -> dict[str, Any]:
    stack = await start_demo_stack(base_settings=bench_settings(watch_interval_s=3600, erp_probe_interval_s=3600), seed_user=False)
    try:
        sim = stack.erp_sim
        sim.set_dialect(**dialect)
        created = clone_companies(sim, companies)
        await bind(stack, created)
        watcher = stack.services.notify.watcher
        rng = random.Random(companies)
        baseline, _, baseline_s = await calls_of(stack, watcher.run_cycle)  # every order new: all read once
        quiet, _, _ = await calls_of(stack, watcher.run_cycle)
        pending = len(watcher.last_cycle.detailed)
        calls, changed, detailed, seconds = [], [], [], []
        kinds: dict[str, list[int]] = defaultdict(list)
        for _ in range(cycles):
            changed.append(change_some(sim, set(created), share, rng))
            spent, by_kind, elapsed = await calls_of(stack, watcher.run_cycle)
            calls.append(spent)
            for kind, n in by_kind.items():
                kinds[kind].append(n)
            detailed.append(len(watcher.last_cycle.detailed))
            seconds.append(elapsed)
        orders = watcher.last_cycle.orders
        return {
            "companies": companies, "open orders": orders, "baseline": baseline, "quiet": quiet, "pending": pending,
            "changed": statistics.mean(changed), "detailed": statistics.mean(detailed),
            "calls": statistics.mean(calls), "old": 4 * companies, "cycle_s": statistics.mean(seconds),
            "baseline_s": baseline_s, "kinds": {k: statistics.mean(v) for k, v in kinds.items()},
        }
    finally:
        await stack.stop()


async def main(sizes: list[int], cycles: int, share: float, dialect: dict[str, str]) -> None:
    print(f"# change watcher, {platform.python_version()}, {cycles} cycles per size, {share:.0%} of open orders changing, "
          f"dialect {dialect or 'of the evidence'}\n", flush=True)
    print("| bound companies | open orders | changed / cycle | orders re-read (changed + awaiting dispatch) "
          "| ERP calls / min | of which orders / lines / deliveries / carrier details "
          "| quiet minute | first cycle (baselines) | before (4 per company) | cycle s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for size in sizes:
        r = await measure(size, cycles, share, dialect)
        print(f"| {r['companies']:,} | {r['open orders']:,} | {r['changed']:.0f} | {r['detailed']:.0f} "
              f"| **{r['calls']:.0f}** | {' / '.join(f'{v:.0f}' for v in r['kinds'].values())} | {r['quiet']} | {r['baseline']:,} ({r['baseline_s']:.1f} s) | {r['old']:,} "
              f"| {r['cycle_s']:.2f} |", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--companies", type=int, nargs="+", default=[10, 100, 1000])
    parser.add_argument("--cycles", type=int, default=3)
    parser.add_argument("--change", type=float, default=0.01)
    parser.add_argument("--dialect", nargs="*", default=[], help="simulator dialect, key=value (docs/simulators-erp.md)")
    args = parser.parse_args()
    asyncio.run(main(args.companies, args.cycles, args.change, dict(pair.split("=", 1) for pair in args.dialect)))
