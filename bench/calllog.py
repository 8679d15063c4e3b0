"""Throughput with the call log on and off (the batched writer must cost at most 5 %).

    .venv/bin/python bench/calllog.py --requests 2000 --concurrency 20

Starts the demo stack on loopback (SQLite, memory cache), call logging on then off, in
alternating rounds, and runs the same cheap authenticated GraphQL query with
``--concurrency`` clients. Prints, for each, the median over rounds of the wall-clock
throughput and of the CPU throughput (requests per CPU-second of this process, which holds
clients and server): on a shared machine the CPU figure is the steadier one, since other
processes steal wall time, not this process's CPU time.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from bff.core.config import Settings
from bff.demo import start_demo_stack

QUERY = "query BenchMe { me { nickname bound } }"  # no ERP call: the logging cost is not hidden behind it


async def throughput(enabled: bool, requests: int, concurrency: int, workdir: Path) -> tuple[float, float]:
    settings = Settings(
        env="test", database_url=f"sqlite+aiosqlite:///{workdir}/bench-{enabled}.sqlite3",
        secret_key=SecretStr("bench-secret"), call_log_enabled=enabled, erp_probe_interval_s=3600,
    )
    stack = await start_demo_stack(base_settings=settings)
    try:
        async with httpx.AsyncClient(base_url=stack.url, headers={"Authorization": f"Bearer {stack.token}"}) as http:
            for _ in range(50):  # warm-up
                await http.post("/graphql", json={"query": QUERY})
            remaining = requests

            async def client() -> None:
                nonlocal remaining
                while remaining > 0:
                    remaining -= 1
                    answer = await http.post("/graphql", json={"query": QUERY})
                    answer.raise_for_status()

            started, cpu_started = time.perf_counter(), time.process_time()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            await stack.services.call_log.flush()  # the writing is part of the cost
            wall, cpu = time.perf_counter() - started, time.process_time() - cpu_started
            return requests / wall, requests / cpu
    finally:
        await stack.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each is kept")
    args = parser.parse_args()
    on: list[tuple[float, float]] = []
    off: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            pair = [(True, on), (False, off)]
            for enabled, results in pair if round_ % 2 == 0 else reversed(pair):  # alternate who goes first
                results.append(await throughput(enabled, args.requests, args.concurrency, Path(tmp)))
    wall_on, wall_off = (statistics.median(r[0] for r in x) for x in (on, off))
    cpu_on, cpu_off = (statistics.median(r[1] for r in x) for x in (on, off))
    print(f"Python {platform.python_version()}, {platform.machine()}; {args.requests} requests x {args.rounds} rounds, "
          f"concurrency {args.concurrency}\n")
    print("| call log | requests/s (wall, median) | requests per CPU-second (median) |\n|---|---|---|")
    print(f"| on | {wall_on:.0f} | {cpu_on:.0f} |\n| off | {wall_off:.0f} | {cpu_off:.0f} |")
    print(f"\ndifference (positive: logging costs throughput): wall {(wall_off - wall_on) / wall_off:+.1%}, "
          f"CPU {(cpu_off - cpu_on) / cpu_off:+.1%}")


if __name__ == "__main__":
    asyncio.run(main())
