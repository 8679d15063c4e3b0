"""Helpers shared by the tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import os
import secrets
import socket
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

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
    """Skip when a server is absent, except in CI where its absence fails the run."""
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


def unique_user(prefix: str = "u") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


class Sim:
    """The ERP simulator's control API."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def calls(self) -> int:
        return int((await self.client.get("/__sim/stats")).json()["total"])

    async def logins(self) -> int:
        return int((await self.client.get("/__sim/stats")).json()["logins"])

    async def faults(self, **faults: Any) -> None:
        (await self.client.post("/__sim/faults", json=faults)).raise_for_status()

    async def reset_faults(self) -> None:
        (await self.client.post("/__sim/faults/reset")).raise_for_status()
