"""The cache library's own cost: aiocache (as ``bff/cache/caches.py`` builds it) against redis-py
used directly, for the operations the BFF makes (a JSON value set with a TTL, read back, missed).

    .venv/bin/python bench/cache.py [--ops 5000] [--redis redis://127.0.0.1:6379/15]

Both go through the same redis-py client (the same pool, one round trip per operation), so the
difference is what aiocache adds in Python: time per operation (wall, one operation at a time on
loopback) and this process's CPU per operation.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable

from common import REDIS

from bff.cache.caches import create_cache, redis_client

VALUE = {"orders": [{"id": str(n), "code": f"SO2026{n:06d}", "rate": n / 7} for n in range(20)]}


async def timed(ops: int, operation: Callable[[int], Awaitable[object]]) -> tuple[float, float]:
    """Microseconds per operation: wall and this process's CPU."""
    wall, cpu = time.perf_counter(), time.process_time()
    for n in range(ops):
        await operation(n)
    return (time.perf_counter() - wall) * 1e6 / ops, (time.process_time() - cpu) * 1e6 / ops


async def main(ops: int, url: str) -> None:
    cache = create_cache(url, namespace="bench-cache")
    direct = redis_client(url, max_connections=4)
    await direct.flushdb()

    async def direct_set(n: int) -> None:
        await direct.set(f"bench-direct:{n}", json.dumps(VALUE), ex=60)

    async def direct_get(n: int) -> object:
        raw = await direct.get(f"bench-direct:{n}")
        return json.loads(raw) if raw is not None else None

    async def direct_miss(n: int) -> object:
        return await direct.get(f"bench-direct-missing:{n}")

    rows = [
        ("set (JSON, TTL)", lambda n: cache.set(f"k{n}", VALUE, ttl=60), direct_set),
        ("get, hit", lambda n: cache.get(f"k{n}"), direct_get),
        ("get, miss", lambda n: cache.get(f"missing{n}"), direct_miss),
    ]
    print(f"{ops} operations each, one at a time, Redis at {url}\n")
    print("| operation | aiocache µs (CPU µs) | redis-py µs (CPU µs) |\n|---|---|---|")
    for name, through_aiocache, through_redis in rows:
        await timed(200, through_aiocache)  # warm: connections, first imports
        await timed(200, through_redis)
        a_wall, a_cpu = await timed(ops, through_aiocache)
        r_wall, r_cpu = await timed(ops, through_redis)
        print(f"| {name} | {a_wall:.0f} ({a_cpu:.0f}) | {r_wall:.0f} ({r_cpu:.0f}) |")
    await direct.flushdb()
    await direct.aclose()
    await cache.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ops", type=int, default=5000)
    parser.add_argument("--redis", default=REDIS)
    args = parser.parse_args()
    asyncio.run(main(args.ops, args.redis))
