"""Shared fixtures: the demo stack over loopback, on SQLite + memory and on MariaDB + Redis.

MariaDB/Redis tests skip when those servers are absent, except in CI (CI=true) where
they must run and a missing server fails the run.
"""

from __future__ import annotations

import os
import secrets
import socket
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from bff.config import Settings
from bff.demo import DemoStack, start_demo_stack

MYSQL_URL = os.environ.get("BFF_TEST_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306/test")
REDIS_URL = os.environ.get("BFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
IN_CI = os.environ.get("CI", "").lower() == "true"


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+asyncmy", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def require_service(url: str, port: int, name: str) -> None:
    if reachable(url, port):
        return
    if IN_CI:
        pytest.fail(f"{name} is required in CI but not reachable at {url}")
    pytest.skip(f"{name} not reachable at {url}")


async def create_mysql_database() -> tuple[str, Any]:
    """A throwaway database on the MariaDB server, so runs never see each other's rows."""
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    name = "bff_test_" + secrets.token_hex(4)
    admin = create_async_engine(MYSQL_URL)
    async with admin.begin() as conn:
        await conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"))
    base = MYSQL_URL.rsplit("/", 1)[0]
    return f"{base}/{name}", (admin, name)


async def drop_mysql_database(handle: Any) -> None:
    from sqlalchemy import text

    admin, name = handle
    async with admin.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    await admin.dispose()


async def flush_redis() -> None:
    import redis.asyncio as redis

    client = redis.from_url(REDIS_URL)
    await client.flushdb()
    await client.aclose()


def test_settings(**overrides: Any) -> Settings:
    base = {
        "env": "test",
        "database_url": "sqlite+aiosqlite:///./var/test-" + secrets.token_hex(4) + ".sqlite3",
        "redis_url": "",
        "secret_key": SecretStr("test-secret-" + secrets.token_hex(8)),
        "data_key": SecretStr("test-data-key-" + secrets.token_hex(8)),
    }
    base.update(overrides)
    return Settings(**base)


@pytest_asyncio.fixture(scope="session", params=["sqlite", "mariadb"])
async def stack(request: pytest.FixtureRequest) -> AsyncIterator[DemoStack]:
    """The whole system on loopback: ERP sim, WeChat sim, BFF; a bound demo user."""
    handle = None
    if request.param == "mariadb":
        require_service(MYSQL_URL, 3306, "MariaDB")
        require_service(REDIS_URL, 6379, "Redis")
        await flush_redis()
        url, handle = await create_mysql_database()
        settings = test_settings(database_url=url, redis_url=REDIS_URL)
    else:
        settings = test_settings()
    demo = await start_demo_stack(base_settings=settings)
    try:
        yield demo
    finally:
        await demo.stop()
        if handle is not None:
            await drop_mysql_database(handle)
        elif settings.database_url.startswith("sqlite"):
            path = settings.database_url.split("///", 1)[1]
            for suffix in ("", "-wal", "-shm"):
                if os.path.exists(path + suffix):
                    os.remove(path + suffix)


@pytest_asyncio.fixture
async def http(stack: DemoStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:
        yield client


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, token: str | None = None) -> None:
        self.http = http
        self.token = token

    async def __call__(self, query: str, variables: dict[str, Any] | None = None, **headers: str) -> dict[str, Any]:
        all_headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        all_headers.update(headers)
        answer = await self.http.post("/graphql", json={"query": query, "variables": variables or {}}, headers=all_headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json())


def error_code(payload: dict[str, Any]) -> str | None:
    errors = payload.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


@pytest.fixture
def gql(http: httpx.AsyncClient, stack: DemoStack) -> GraphQLClient:
    """GraphQL as the seeded, bound demo user."""
    return GraphQLClient(http, stack.token)


def unique_user(prefix: str = "u") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"
