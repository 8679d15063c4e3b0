"""Where one home screen's time goes, as deployed: phases of single requests, end to end.

    .venv/bin/python bench/phases.py --erp-latency-ms 200 --requests 30 [--connections 4]

One ``bff serve`` in production mode on MariaDB + Redis (db ``--redis-db``, flushed), call log and
notifications on (as ``bench/scaleout.py --as-deployed``), run through bench/phase_probe.py,
which time-stamps each request's phases inside the BFF. The ERP and WeChat simulators run in
this process; the simulator records each ERP call's start and end on the same monotonic clock.
The mini program's trusted ``Home`` (20 cards) is sent ``--requests`` times, one at a time
(``--connections`` > 1: that many purchasers at once, each waiting for its answer before the
next), after ``--warmup`` requests. For every request: the client's latency; its ERP rounds
(chains of calls each started after one was parsed); per round, each step's worst call (waiting
for a pooled connection, on the wire to the simulator's start, the simulator's start to end,
back, parsed); and the request cut along its critical path of ERP calls, A to G, which add up
to the time from received to answered: before the first call, waiting for connections, the
simulator's latency, the simulator's own work and loopback, parsing, between rounds, after the
last answer. Printed as medians (the cut over the requests that made ERP calls of their own;
the others joined reads in flight), with one request's timeline in full (``--show``).
``--env KEY=VALUE`` sets more of the BFF's settings (``BFF_ERP_POOL_SIZE=20``: as before).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections import deque
from pathlib import Path
from typing import Any

import httpx
from common import ProcessStack, document_ids, free_port, wait_listening

HERE = Path(__file__).resolve().parent
args_latency_s = 0.0  # the simulator's latency, set by main()


def rounds_of(calls: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Calls grouped in rounds: a call joins the round after the latest round one of whose
    calls had ended before it started (the longest chain of waits, as bench/roundtrips.py)."""
    ordered = sorted(calls, key=lambda c: c["start"])
    depth: list[int] = []
    for n, call in enumerate(ordered):
        depth.append(1 + max((depth[m] for m in range(n) if ordered[m]["end"] <= call["start"]), default=0))
    rounds: list[list[dict[str, Any]]] = [[] for _ in range(max(depth, default=0))]
    for call, d in zip(ordered, depth, strict=True):
        rounds[d - 1].append(call)
    return rounds


def erp_calls(spans: list[dict[str, Any]], sim_calls: list[dict[str, Any]], taken: set[int]) -> list[dict[str, Any]]:
    """The request's ERP calls: entered (``start``), on the wire, answered, parsed (``end``), and
    the simulator's record of the same call (its start and end), paired by form and time."""
    http = sorted((s for s in spans if s["kind"] == "erp.http"), key=lambda s: s["start"])
    calls = []
    for call in sorted((s for s in spans if s["kind"] == "erp.call"), key=lambda s: s["start"]):
        wire = next((h for h in http if call["start"] <= h["start"] and h["end"] <= call["end"]), None)
        if wire is None:
            continue
        http.remove(wire)
        sim = next((c for c in sim_calls if id(c) not in taken and c["formId"] == call["form"]
                    and wire["start"] <= c["start"] and c["end"] <= wire["end"]), None)
        if sim is not None:
            taken.add(id(sim))
        calls.append({**call, "wire": wire["start"], "answered": wire["end"], "sim": sim})
    return calls


def breakdown(spans: list[dict[str, Any]], sim_calls: list[dict[str, Any]], taken: set[int],
              sent: float, answered: float) -> dict[str, Any]:
    """One request's phases, in ms (from the client's send unless said)."""
    def ms(t: float) -> float:
        return round(t * 1000, 1)

    received = next(s["start"] for s in spans if s["kind"] == "received")
    response_end = next(s["start"] for s in spans if s["kind"] == "response.end")
    executed = next((s for s in spans if s["kind"] == "graphql.execute"), None)
    calls = erp_calls(spans, sim_calls, taken)
    rounds = rounds_of(calls)
    out: dict[str, Any] = {
        "client latency": ms(answered - sent),
        "sent -> received by the BFF": ms(received - sent),
        "received -> graphql execute": ms(executed["start"] - received) if executed else None,
        "rounds (BFF side)": len(rounds), "ERP calls": len(calls),
        "ERP calls the simulator recorded": sum(1 for c in calls if c["sim"]),
    }
    if rounds:
        out["received -> first ERP call on the wire"] = ms(min(c["wire"] for c in rounds[0]) - received)
    previous_end = None
    for n, group in enumerate(rounds, 1):
        first_wire = min(c["wire"] for c in group)
        if previous_end is not None:
            out[f"gap: round {n - 1} parsed -> round {n} on the wire"] = ms(first_wire - previous_end)
        out[f"round {n}: calls"] = len(group)
        out[f"round {n}: first on the wire -> last on the wire"] = ms(max(c["wire"] for c in group) - first_wire)
        sims = [c["sim"] for c in group if c["sim"]]
        if sims:
            out[f"round {n}: on the wire -> simulator start (worst)"] = ms(max(s["start"] - c["wire"] for c in group if (s := c["sim"])))
            out[f"round {n}: simulator start -> end (worst)"] = ms(max(s["end"] - s["start"] for s in sims))
            out[f"round {n}: simulator end -> BFF has the answer (worst)"] = ms(max(c["answered"] - s["end"] for c in group if (s := c["sim"])))
        out[f"round {n}: answer -> parsed (worst)"] = ms(max(c["end"] - c["answered"] for c in group))
        out[f"round {n}: first on the wire -> last parsed"] = ms(max(c["end"] for c in group) - first_wire)
        previous_end = max(c["end"] for c in group)
    if previous_end is not None:
        out["last ERP call parsed -> graphql done"] = ms(executed["end"] - previous_end) if executed else None
    if executed:
        out["graphql done -> response end"] = ms(response_end - executed["end"])
    if calls:  # the request's time from received to answered, cut along its critical path of ERP calls
        latency = args_latency_s
        critical = [max(calls, key=lambda c: c["end"])]  # the last call parsed, then what it waited on, ...
        while before := [c for c in calls if c["end"] <= critical[0]["start"]]:
            critical.insert(0, max(before, key=lambda c: c["end"]))
        cut = {"A before the first ERP call": critical[0]["start"] - received, "B waiting for a pooled connection": 0.0,
               "C ERP latency (the simulator's sleep)": 0.0, "D simulator's own work and loopback": 0.0,
               "E parsing the answers": 0.0, "F between rounds": 0.0}
        for n, call in enumerate(critical):
            if n:
                cut["F between rounds"] += call["start"] - critical[n - 1]["end"]
            cut["B waiting for a pooled connection"] += call["wire"] - call["start"]
            cut["C ERP latency (the simulator's sleep)"] += latency
            cut["D simulator's own work and loopback"] += call["answered"] - call["wire"] - latency
            cut["E parsing the answers"] += call["end"] - call["answered"]
        cut["G after the last ERP answer (answer built, written)"] = response_end - critical[-1]["end"]
        for key, value in cut.items():
            out["cut " + key] = ms(value)
        out["cut: ERP calls on the critical path"] = len(critical)
    slots = [s["end"] - s["start"] for s in spans if s["kind"] == "erp.slot"]
    out["longest wait for a pooled ERP connection"] = ms(max(slots, default=0.0))
    out["response end -> client has it"] = ms(answered - response_end)
    if rounds:
        first_wire = min(c["wire"] for c in rounds[0])
        out["redis/sql before the first ERP call"] = sum(1 for s in spans if s["kind"] in ("redis", "redis.pipeline", "sql")
                                                         and s["start"] < first_wire)
    out["redis/sql while the request ran"] = sum(1 for s in spans if s["kind"] in ("redis", "redis.pipeline", "sql")
                                                 and s["start"] < response_end)
    out["redis/sql after the response"] = sum(1 for s in spans if s["kind"] in ("redis", "redis.pipeline", "sql")
                                              and s["start"] >= response_end)
    return out


async def main(args: argparse.Namespace) -> dict[str, Any]:
    global args_latency_s
    args_latency_s = args.erp_latency_ms / 1000
    redis_url = f"redis://127.0.0.1:6379/{args.redis_db}"
    stack = await ProcessStack.start(args.erp_latency_ms, redis_url)
    sims, env = stack.sims, stack.env
    env["BFF_NOTIFY_ENABLED"] = "true" if not args.no_notify else "false"
    for pair in args.env:
        key, value = pair.split("=", 1)
        env[key] = value
    subprocess.run([str(Path(sys.executable).parent / "bff"), "migrate"], env=env, check=True, capture_output=True)
    port = free_port()
    server = subprocess.Popen([sys.executable, str(HERE / "phase_probe.py"), "serve", "--port", str(port)], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if not args.verbose else None)
    results: list[dict[str, Any]] = []
    try:
        await wait_listening(f"http://127.0.0.1:{port}/api/health/check?probe=live", server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            tokens = [await sims.bound_token(http, f"bench-phases-{i}", other_company=i % 2 == 1)
                      for i in range(max(2, args.connections))]
            body = {"documentId": document_ids()["Home"], "variables": {"pageSize": 20}}

            async def ask(token: str, tag: str = "") -> tuple[float, float, dict[str, Any]]:
                sent = time.monotonic()
                answer = await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {token}", "X-Probe": tag})
                done = time.monotonic()
                answer.raise_for_status()
                data = answer.json()
                if data.get("errors") or '"stale":true' in answer.text:
                    print("not clean:", answer.text[:300], file=sys.stderr)
                return sent, done, data

            for n in range(args.warmup):
                await ask(tokens[n % len(tokens)])
            await asyncio.sleep(1.0)
            await http.get("/__probe")
            sims.erp_sim.calls = deque(maxlen=1_000_000)
            timings: dict[str, tuple[float, float]] = {}

            async def worker(token: str, count: int) -> None:
                for _ in range(count):
                    tag = str(len(timings) + 1000 * tokens.index(token))
                    sent, done, _ = await ask(token, tag)
                    timings[tag] = (sent, done)

            await asyncio.gather(*(worker(tokens[i], args.requests) for i in range(args.connections)))
            await asyncio.sleep(1.5)  # work the requests left running (call log flush) recorded too
            probe = (await http.get("/__probe")).json()
        sim_calls = [c for c in sims.erp_sim.stats_snapshot()["calls"] if c["end"] is not None]
        requests = {next(s["tag"] for s in spans if s["kind"] == "received"): spans
                    for spans in probe["requests"].values()
                    if any(s["kind"] == "received" and s.get("path") == "/graphql" for s in spans)}
        taken: set[int] = set()
        for tag, spans in sorted(requests.items(), key=lambda item: item[1][0]["start"]):
            sent, done = timings[tag]
            results.append(breakdown(spans, sim_calls, taken, sent, done) | {"_spans": spans, "_sent": sent})
        lags = [lag for _, lag in probe["lag"]]
        print(f"Home (20 cards), ERP simulator at {args.erp_latency_ms:.0f} ms, {args.connections} connection(s), "
              f"{len(timings)} requests, production mode, MariaDB + Redis, notifications "
              f"{'off' if args.no_notify else 'on'}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
        clients = [(done - sent) * 1000 for sent, done in timings.values()]
        waits = [r["longest wait for a pooled ERP connection"] for r in results]
        print(f"client latency ms: p50 {statistics.median(clients):.0f}, min {min(clients):.0f}, max {max(clients):.0f}; "
              f"requests that waited > 20 ms for a pooled ERP connection: {sum(w > 20 for w in waits)} of {len(waits)}")
        if lags:
            print(f"event loop lag of a 10 ms tick (BFF): p50 {statistics.median(lags) * 1000:.1f} ms, "
                  f"max {max(lags) * 1000:.1f} ms")
        keys = list(dict.fromkeys(k for r in results for k in r if not k.startswith("_")))
        for key in keys:
            values = [r[key] for r in results if isinstance(r.get(key), (int, float))]
            if values:
                print(f"  {key:58s} median {statistics.median(values):8.1f}   min {min(values):8.1f}   max {max(values):8.1f}")
        if args.show and results:
            show(results[len(results) // 2], sim_calls)
    finally:
        await stack.tear_down([server])
    return {"results": results, "sim": sim_calls}


def show(result: dict[str, Any], sim_calls: list[dict[str, Any]]) -> None:
    sent = result["_sent"]
    events = [(s["start"], s["end"], s["kind"], {k: v for k, v in s.items() if k not in ("kind", "start", "end")})
              for s in result["_spans"]]
    end = max(e[1] for e in events)
    events += [(c["start"], c["end"], "SIM", {"endpoint": c["endpoint"], "form": c["formId"]})
               for c in sim_calls if sent <= c["start"] <= end]
    print("\none request's timeline (ms from the client's send):")
    for start, stop, kind, extra in sorted(events, key=lambda e: e[0]):
        print(f"  {(start - sent) * 1000:8.1f} {(stop - sent) * 1000:8.1f}  {kind:16s} {json.dumps(extra, default=str)[:100]}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--erp-latency-ms", type=float, default=200.0)
    parser.add_argument("--requests", type=int, default=30, help="per connection")
    parser.add_argument("--warmup", type=int, default=6)
    parser.add_argument("--connections", type=int, default=1)
    parser.add_argument("--redis-db", type=int, default=15)
    parser.add_argument("--no-notify", action="store_true", help="notifications (watcher, outbox) off")
    parser.add_argument("--env", action="append", default=[], metavar="KEY=VALUE", help="more BFF settings")
    parser.add_argument("--show", action="store_true", help="one request's timeline in full")
    parser.add_argument("--dump", help="write every request's spans and the simulator's calls to this JSON file")
    parser.add_argument("--verbose", action="store_true", help="the BFF's log on stderr")
    args = parser.parse_args()
    recorded = asyncio.run(main(args))
    if args.dump:
        Path(args.dump).write_text(json.dumps(recorded, default=str))
