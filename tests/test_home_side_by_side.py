"""Two purchasers of two companies opening the home screen at once each wait two ERP round trips,
not three: the ERP connection pool holds both home screens' line reads side by side.

In the evidenced shapes a home screen reads one order's lines per card: 20 calls at once in
its second round. A pool of 20 connections held one home screen's second round, and a second
one arriving meanwhile waited a whole ERP round trip for a free connection (measured with
bench/phases.py at 200 ms: p50 0.67 s with 4 purchasers at once against 0.47 s for one; issue
20). Counted on the simulator's own timeline, as bench/roundtrips.py does: the longest chain
of calls each started after the previous one was answered.
"""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

from bff.core.config import Settings
from bff.demo import DemoStack
from tests.support import Sim

LATENCY_MS = 300  # far above the two requests' skew on a busy machine: a call that waited for a slot shows
HOME = "{ orders(page: 1, pageSize: 20) { total items { id materialSummary deliveryText shippedRate } } }"


def chain_length(calls: list[dict[str, Any]]) -> int:
    """The longest chain of calls each started after the previous was answered."""
    ordered = sorted((c for c in calls if c.get("end") is not None), key=lambda c: c["start"])
    depth: list[int] = []
    for n, call in enumerate(ordered):
        depth.append(1 + max((depth[m] for m in range(n) if ordered[m]["end"] <= call["start"]), default=0))
    return max(depth, default=0)


async def test_two_home_screens_at_once_take_two_round_trips_each(stack: DemoStack, sim: Sim) -> None:
    assert stack.services.erp.primary.pool_stats().size == Settings.model_fields["erp_pool_size"].default
    other = await stack.login("side-by-side-purchaser", stack.erp_sim.demo_info()["other_customer"]["invite_code"])
    async with httpx.AsyncClient(base_url=stack.url, timeout=30) as http:

        async def home(token: str) -> dict[str, Any]:
            answer = await http.post("/graphql", json={"query": HOME}, headers={"Authorization": f"Bearer {token}"})
            answer.raise_for_status()
            body: dict[str, Any] = answer.json()
            assert not body.get("errors") and len(body["data"]["orders"]["items"]) == 20, body
            return body

        for token in (stack.token, other):  # sessions, viewers and the customers' standing settle
            await home(token)
        await sim.faults(latency_ms=LATENCY_MS)
        (await sim.client.post("/__sim/stats/reset")).raise_for_status()
        await asyncio.gather(home(stack.token), home(other))
        calls = (await sim.client.get("/__sim/stats")).json()["calls"]
    lines = [c for c in calls if c["formId"] == 100185]
    assert len(lines) == 40, calls  # each card's lines read by its own request: both needed 20 connections at once
    assert chain_length(calls) == 2, sorted((round(c["start"] - calls[0]["start"], 3), c["formId"]) for c in calls)
