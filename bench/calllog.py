"""Throughput with the call log on and off (the batched writer must cost at most 5 %).

    .venv/bin/python bench/calllog.py --requests 2000 --concurrency 20

Starts the demo stack twice on loopback (SQLite, memory cache), call logging on then off,
and runs the same cheap authenticated GraphQL query with ``--concurrency`` clients; prints
requests per second of each and the difference, as a Markdown table.
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import tempfile
import time
from pathlib import Path

import httpx
from pydantic import SecretStr

from bff.config import Settings
from bff.demo import start_demo_stack

QUERY = "query BenchMe { me { nickname bound } }"  # no ERP call: the logging cost is not hidden behind it


async def throughput(enabled: bool, requests: int, concurrency: int, workdir: Path) -> float:
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

            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(concurrency)))
            return requests / (time.perf_counter() - started)
    finally:
        await stack.stop()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds; the best of each is kept")
    args = parser.parse_args()
    on: list[float] = []
    off: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        for _ in range(args.rounds):
            on.append(await throughput(True, args.requests, args.concurrency, Path(tmp)))
            off.append(await throughput(False, args.requests, args.concurrency, Path(tmp)))
    best_on, best_off = max(on), max(off)
    print(f"Python {platform.python_version()}, {platform.machine()}; {args.requests} requests x {args.rounds} rounds, "
          f"concurrency {args.concurrency}\n")
    print("| call log | requests/s (best of rounds) |\n|---|---|")
    print(f"| on | {best_on:.0f} |\n| off | {best_off:.0f} |")
    print(f"\ndifference: {(best_off - best_on) / best_off:+.1%} (positive: logging costs throughput)")


if __name__ == "__main__":
    asyncio.run(main())
