"""Scale-out: home-screen throughput of one BFF instance against two, on one MariaDB + Redis.

    apt-get install wrk   # the load generator (Debian's wrk)
    .venv/bin/python bench/scaleout.py --erp-latency-ms 50 --duration 20 --connections 16

Both instances run `bff serve` in production mode on the same fresh MariaDB database and Redis
(db 15 unless ``--redis-db``, flushed), behind no balancer: wrk drives each instance with ``--connections`` keep-alive
connections (load proportional to instances, as a balancer would spread it), sending the mini
program's trusted ``Home`` document for ``--users`` purchasers of two companies in turn. The
ERP and WeChat simulators run in this process. Counted: requests per second over the run,
latency percentiles from wrk, answers that were not a clean 200 (errors, ``OVERLOADED``) or
were stale, and the CPU each process used, so a reader can see where the cores went.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import ProcessStack, cpu_seconds, document_ids, free_port, wait_listening

LUA = """
local tokens = {%(tokens)s}
local body = [[%(body)s]]
local threads, n = {}, 0
function setup(thread) table.insert(threads, thread) end
function init(args) bad = 0; stale = 0 end
function request()
  n = n + 1
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json",
    ["Authorization"] = "Bearer " .. tokens[(n %% #tokens) + 1]}, body)
end
function response(status, headers, answer)
  if status ~= 200 or answer:find('"errors"', 1, true) then bad = bad + 1 end
  if answer:find('"stale":true', 1, true) then stale = stale + 1 end
end
function done(summary, latency, requests)
  local b, s = 0, 0
  for _, t in ipairs(threads) do b = b + t:get("bad"); s = s + t:get("stale") end
  io.write(string.format("BENCH bad=%%d stale=%%d\\n", b, s))
end
"""


@dataclass
class Run:
    instances: int
    rps: float
    p50_ms: float
    p99_ms: float
    bad: int
    stale: int
    cpu: dict[str, float]  # process -> share of one core over the run
    erp_calls_per_answer: float = 0.0  # the simulator's count over the run / the answers

    @property
    def per_bff_cpu_s(self) -> float:
        """Clean answers per CPU-second the BFF processes spent: the figure that stays flat when
        instances scale linearly, however few cores the machine has for them."""
        return self.rps / sum(share for name, share in self.cpu.items() if name.startswith("BFF"))


def _ms(value: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s)", value).groups()  # type: ignore[union-attr]
    return float(number) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def parse_wrk(output: str) -> tuple[float, float, float, int, int]:
    """Clean answers per second (every answer less the bad ones), p50, p99, bad, stale."""
    count, seconds = re.search(r"(\d+) requests in ([\d.]+)s", output).groups()  # type: ignore[union-attr]
    p50 = _ms(re.search(r"\s50%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    p99 = _ms(re.search(r"\s99%\s+(\S+)", output).group(1))  # type: ignore[union-attr]
    bad, stale = map(int, re.search(r"BENCH bad=(\d+) stale=(\d+)", output).groups())  # type: ignore[union-attr]
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    bad = max(bad, int(non_2xx.group(1)) if non_2xx else 0)
    return (int(count) - bad) / float(seconds), p50, p99, bad, stale


async def load(ports: list[int], script: Path, connections: int, duration: int,
               pids: dict[str, int], erp_calls: Callable[[], int]) -> Run:
    """wrk on every port at once; the sum of their rates, the worst of their percentiles."""
    before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    calls_before = erp_calls()
    started = time.monotonic()
    procs = [
        await asyncio.create_subprocess_exec(
            "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(script),
            f"http://127.0.0.1:{port}/graphql", stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        )
        for port in ports
    ]
    outputs = [(await p.communicate())[0].decode() for p in procs]
    wall = time.monotonic() - started
    cpu = {name: (cpu_seconds(pid) - before[name]) / wall for name, pid in pids.items()}
    parsed = [parse_wrk(o) for o in outputs]
    answers = sum(int(re.search(r"(\d+) requests in", o).group(1)) for o in outputs)  # type: ignore[union-attr]
    return Run(len(ports), sum(p[0] for p in parsed), max(p[1] for p in parsed), max(p[2] for p in parsed),
               sum(p[3] for p in parsed), sum(p[4] for p in parsed), cpu, (erp_calls() - calls_before) / max(1, answers))


async def main(latency_ms: float, duration: int, connections: int, users: int, instances: int, as_deployed: bool,
               erp_pool_size: int | None, redis_db: int) -> None:
    redis_url = f"redis://127.0.0.1:6379/{redis_db}"
    stack = await ProcessStack.start(latency_ms, redis_url)
    sims, env = stack.sims, stack.env
    if as_deployed:  # the change watcher and the outbox running beside the requests, as in production
        env["BFF_NOTIFY_ENABLED"] = "true"
    if erp_pool_size is not None:
        env["BFF_ERP_POOL_SIZE"] = str(erp_pool_size)
    bff_bin = str(Path(sys.executable).parent / "bff")
    subprocess.run([bff_bin, "migrate"], env=env, check=True, capture_output=True)
    ports = [free_port(), free_port()]
    servers = [subprocess.Popen([bff_bin, "serve", "--port", str(p)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for p in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            await wait_listening(f"http://127.0.0.1:{port}/api/health/check?probe=live", server)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{ports[0]}", timeout=30) as http:
            tokens = [await sims.bound_token(http, f"bench-scale-{i}", other_company=i % 2 == 1) for i in range(users)]
        body = json.dumps({"documentId": document_ids()["Home"], "variables": {"pageSize": 20}})
        script = Path(tempfile.mkdtemp()) / "home.lua"
        script.write_text(LUA % {"tokens": ", ".join(f'"{t}"' for t in tokens), "body": body})
        pids = {"BFF 1": servers[0].pid, "BFF 2": servers[1].pid, "simulators (this process)": os.getpid()}
        runs = []
        for count in range(1, instances + 1):
            def erp_calls() -> int:
                return sims.erp_sim.total

            await load(ports[:count], script, connections, 3, pids, erp_calls)  # warm-up: caches, pools, sessions
            runs.append(await load(ports[:count], script, connections, duration, pids, erp_calls))
        print(f"Scale-out, home screen (trusted `Home`, 20 orders): {users} purchasers of 2 companies, wrk with "
              f"{connections} connections per instance for {duration} s, ERP simulator at {latency_ms:.0f} ms, "
              f"production mode on MariaDB + Redis{', notifications on' if as_deployed else ''}"
              f"{f', ERP pool {erp_pool_size}' if erp_pool_size else ''}, {os.cpu_count()} cores\n")
        print("| instances | clean answers/s | per BFF CPU-second | p50 ms | p99 ms | not clean 200 | stale | ERP calls/answer "
              "| CPU (share of one core) |")
        print("|---|---|---|---|---|---|---|---|---|")
        for run in runs:
            cpu = ", ".join(f"{name} {share:.2f}" for name, share in run.cpu.items())
            print(f"| {run.instances} | {run.rps:.1f} | {run.per_bff_cpu_s:.0f} | {run.p50_ms:.0f} | {run.p99_ms:.0f} "
                  f"| {run.bad} | {run.stale} | {run.erp_calls_per_answer:.1f} | {cpu} |")
        if len(runs) > 1:
            print(f"\nscale-out: {runs[1].rps / runs[0].rps:.2f}× one instance; answers per BFF CPU-second "
                  f"{runs[1].per_bff_cpu_s / runs[0].per_bff_cpu_s:.2f}× (1.00: the instances share nothing that costs CPU)")
    finally:
        await stack.tear_down(servers)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--erp-latency-ms", type=float, default=50.0)
    parser.add_argument("--duration", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16, help="per instance")
    parser.add_argument("--users", type=int, default=40)
    parser.add_argument("--instances", type=int, choices=(1, 2), default=2, help="1: one instance's figures only")
    parser.add_argument("--as-deployed", action="store_true", help="notifications (watcher, outbox) on, as in production")
    parser.add_argument("--erp-pool-size", type=int, help="BFF_ERP_POOL_SIZE (default: the setting's)")
    parser.add_argument("--redis-db", type=int, default=15, help="the Redis database to use (flushed)")
    args = parser.parse_args()
    asyncio.run(main(args.erp_latency_ms, args.duration, args.connections, args.users, args.instances,
                     args.as_deployed, args.erp_pool_size, args.redis_db))
