"""Redis is optional at run time: killed, the BFF keeps serving (sessions from the database,
caches in local memory), the health check says "degraded", the log says so once; when
Redis returns, the shared cache is used again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio

from bff.demo import DemoStack
from tests.monitor.helpers import custom_stack
from tests.private_redis import PrivateRedis

ME = "{ me { nickname binding { company { name } } } }"
HOME = "{ orders(pageSize: 5) { total stale items { id code } } }"


@pytest_asyncio.fixture
async def stack(redis_server: PrivateRedis) -> AsyncIterator[DemoStack]:
    async with custom_stack(redis_url=redis_server.url, redis_retry_s=0.2) as demo:
        yield demo


async def _health(http: httpx.AsyncClient) -> dict:  # type: ignore[type-arg]
    answer = await http.get("/api/health/check")
    assert answer.status_code == 200, answer.text
    return dict(answer.json())


async def test_redis_killed_then_back(stack: DemoStack, redis_server: PrivateRedis, caplog: pytest.LogCaptureFixture) -> None:
    headers = {"Authorization": f"Bearer {stack.token}"}
    async with httpx.AsyncClient(base_url=stack.url, timeout=10, headers=headers) as http:
        assert (await _health(http))["cache"] == "redis"
        assert (await http.post("/graphql", json={"query": HOME})).json()["data"]["orders"]["stale"] is False

        redis_server.kill()
        caplog.clear()
        caplog.set_level(logging.INFO)
        answers = await asyncio.gather(*(http.post("/graphql", json={"query": q}) for q in [ME, HOME] * 25))
        for answer in answers:
            assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
        assert answers[0].json()["data"]["me"]["binding"]["company"]["name"]
        assert all(a.json()["data"]["orders"]["stale"] is False for a in answers[1::2])
        # A login and a binding still work: sessions and bindings live in the database.
        token = await stack.login("redis-outage-user", stack.demo["customer"]["invite_code"])
        me = await http.post("/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"})
        assert me.json()["data"]["me"]["binding"] is not None

        health = await _health(http)
        assert health["ready"] is True and health["status"] == "degraded"
        assert health["checks"]["cache"]["status"] == "degraded"
        assert health["cache"] == "memory (redis unavailable)"

        assert not [r for r in caplog.records if r.exc_info], "no traceback per request"
        went = [r for r in caplog.records if "redis unavailable" in r.getMessage()]
        assert 1 <= len(went) <= 2  # once per cache (main, WeChat token), not once per request

        redis_server.start()
        async with asyncio.timeout(10):
            while (await _health(http))["cache"] != "redis":
                await http.post("/graphql", json={"query": HOME})
                await asyncio.sleep(0.1)
        assert any("redis answers again" in r.getMessage() for r in caplog.records)
        assert (await _health(http))["status"] == "ok"
