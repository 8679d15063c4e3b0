"""What a signed-in request costs in Redis: its limits are counted two at a time and its customer
is remembered in-process, so a `me` takes three round trips (the IP and global limits, the
viewer's version, the user's limits); each costs this process about as much CPU as the GraphQL
work of a cheap request."""

from __future__ import annotations

import httpx
import redis.asyncio as redis

from tests.monitor.helpers import custom_stack
from tests.private_redis import PrivateRedis

ME = "{ me { openid binding { company { name } } } }"
HOME = "{ orders(page: 1, pageSize: 20) { total items { id materialSummary deliveryText shippedRate } } }"
REQUESTS = 20


async def _commands(client: redis.Redis) -> dict[str, int]:
    """Calls per command since the last reset (this test's own Redis: nobody else counts)."""
    stats = await client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(fields["calls"]) for name, fields in stats.items()}


async def test_a_signed_in_request_costs_three_redis_round_trips(redis_server: PrivateRedis) -> None:
    client = redis.from_url(redis_server.url)
    async with custom_stack(redis_url=redis_server.url) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        async with httpx.AsyncClient(base_url=stack.url, timeout=10, headers=headers) as http:
            for _ in range(3):  # the first ones keep the viewer and the customer's standing
                assert (await http.post("/graphql", json={"query": ME})).json()["data"]["me"]["binding"]
            await client.config_resetstat()
            for _ in range(REQUESTS):
                answer = await http.post("/graphql", json={"query": ME})
                assert answer.json()["data"]["me"]["binding"]["company"]["name"], answer.text
            commands = await _commands(client)
    await client.aclose()
    # Redis counts the commands a script runs too (incrby, get, ttl), besides those the BFF sends.
    assert commands.get("evalsha", 0) == 2 * REQUESTS, commands  # IP + global; user + ERP calls
    # Per request: the viewer's version, and the ERP-call count read inside the script; the
    # customer (name, standing) comes from memory. A background job may add a read or two.
    assert 2 * REQUESTS <= commands.get("get", 0) <= 2 * REQUESTS + 2, commands


async def test_the_home_screens_round_trips_do_not_grow_with_its_deliveries(redis_server: PrivateRedis) -> None:
    client = redis.from_url(redis_server.url)
    async with custom_stack(redis_url=redis_server.url) as stack:
        headers = {"Authorization": f"Bearer {stack.token}"}
        async with httpx.AsyncClient(base_url=stack.url, timeout=10, headers=headers) as http:
            first = (await http.post("/graphql", json={"query": HOME})).json()["data"]["orders"]
            await http.post("/graphql", json={"query": HOME})
            await client.config_resetstat()
            for _ in range(5):
                answer = (await http.post("/graphql", json={"query": HOME})).json()
                assert answer["data"]["orders"]["total"] == first["total"], answer
            commands = await _commands(client)
    await client.aclose()
    delivered = sum(1 for item in first["items"] if item["shippedRate"])
    assert delivered >= 5  # enough deliveries that one read each would show
    # Per request: 3 limit scripts (IP + global, user, the ERP calls charged), the viewer's
    # version, and at most one multi-key read of the carriers not yet known.
    assert commands.get("evalsha", 0) == 3 * 5, commands
    assert commands.get("mget", 0) <= 5, commands
    assert commands.get("get", 0) <= 2 * 5 + 2, commands  # the version, and the ERP-call count in the script
