"""Helpers shared by the tests (the fixtures live in conftest.py)."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar
from urllib.parse import urlparse

import httpx
import pytest
from pydantic import SecretStr

from bff.core.config import Settings

if TYPE_CHECKING:
    from bff.demo import DemoStack

MYSQL_URL = os.environ.get("BFF_TEST_MYSQL_URL", "mysql+asyncmy://root@127.0.0.1:3306/test")
# pytest-xdist workers (gw0, gw1, ...) each flush their own Redis database: 15, 14, ...
_WORKER = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0")[2:] or 0)
REDIS_URL = os.environ.get("BFF_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
REDIS_URL = REDIS_URL.rsplit("/", 1)[0] + "/" + str(int(REDIS_URL.rsplit("/", 1)[1]) - _WORKER)
T = TypeVar("T")
IN_CI = os.environ.get("CI", "").lower() == "true"
CHROMIUM = "/usr/bin/chromium"  # Debian's; never a browser downloaded by a tool
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run", "--disable-sync"]


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url.replace("+asyncmy", ""))
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=1):
            return True
    except OSError:
        return False


def missing(what: str) -> NoReturn:
    """Skip a test whose prerequisite is absent, except in CI (.ci/run provides them all): fail."""
    if IN_CI:
        pytest.fail(f"required in CI: {what}")
    pytest.skip(what)


def require_service(url: str, port: int, name: str) -> None:
    if not reachable(url, port):
        missing(f"{name} not reachable at {url}")


def require_chromium() -> None:
    if not shutil.which(CHROMIUM):
        missing(f"Debian's chromium at {CHROMIUM} (apt-get install -y chromium)")


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
        # 200 for an answer; a request refused before execution is a 4xx with the same body shape.
        assert answer.status_code == 200 or (400 <= answer.status_code < 500 and "errors" in answer.json()), answer.text
        return dict(answer.json())


def registered(operation: str) -> str:
    """The text of a registered (trusted) document: only their names label metrics."""
    from bff.web import documents

    for text in json.loads(documents.MANIFEST.read_text(encoding="utf-8")).values():
        if documents.operation_name(text) == operation:
            return str(text)
    raise KeyError(operation)


def error_code(payload: dict[str, Any]) -> str | None:
    errors = payload.get("errors") or []
    return errors[0]["extensions"]["code"] if errors else None


def unique_user(prefix: str = "u") -> str:
    return f"{prefix}-{secrets.token_hex(4)}"


async def erp_calls(stack: Any, sim: Sim, send: Callable[[], Awaitable[T]]) -> tuple[int, T]:
    """The ERP calls ``send()`` caused, as the simulator counted them, and what it answered."""
    before = await sim.calls()
    answer = await send()
    return await sim.calls() - before, answer


async def erp_cost(
    stack: Any, sim: Sim, gql: GraphQLClient, query: str, variables: dict[str, Any]
) -> tuple[int, dict[str, Any]]:
    """A request's ERP calls (see ``erp_calls``), checked against ``extensions.erp``; and its data."""
    calls, payload = await erp_calls(stack, sim, lambda: gql(query, variables))
    assert "errors" not in payload, payload["errors"]
    assert payload["extensions"]["erp"]["calls"] == calls
    return calls, payload["data"]


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

    async def dialect(self, **changes: str) -> dict[str, str]:
        """Merge ``changes`` into the protocol dialect (none: just read it); answers the whole dialect."""
        answer = await (self.client.post("/__sim/dialect", json=changes) if changes else self.client.get("/__sim/dialect"))
        answer.raise_for_status()
        return dict(answer.json()["dialect"])

    async def reset_dialect(self) -> None:
        """Back to the default dialect (the evidence's)."""
        (await self.client.post("/__sim/dialect/reset")).raise_for_status()


@asynccontextmanager
async def app_client(settings: Any, services: Any) -> AsyncIterator[httpx.AsyncClient]:
    """Another BFF app over ``services`` (e.g. the shared stack's), served on loopback, and a client of it."""
    from bff.web.app import create_app
    from bff.web.serving import start_server

    server = await start_server(create_app(settings, services))
    try:
        async with httpx.AsyncClient(base_url=server.url, timeout=10) as client:
            yield client
    finally:
        server.server.should_exit = True
        await server.task


async def eventually(read: Callable[[], Awaitable[T]], done: Callable[[T], bool], deadline_s: float,
                     interval_s: float = 0.05) -> T:
    """``read()`` again and again until ``done`` holds of what it read or the deadline passes;
    the last read either way (the caller asserts on it, so a timeout shows what was there)."""
    loop = asyncio.get_running_loop()
    ends = loop.time() + deadline_s
    while True:
        value = await read()
        if done(value) or loop.time() > ends:
            return value
        await asyncio.sleep(interval_s)


async def logged_rows(stack: DemoStack, statement: Any, until: Callable[[list[Any]], bool] = bool,
                      deadline_s: float = 10.0) -> list[Any]:
    """The call log's rows for ``statement`` once ``until`` holds of them (or at the deadline).
    A request's row is recorded after its answer is sent (AccessLogMiddleware), so a client can
    hold the answer before the row is queued: flush and read again until it is there."""
    async def read() -> list[Any]:
        await stack.services.call_log.flush()
        async with stack.services.db.session() as session:
            return list((await session.exec(statement)).all())

    return await eventually(read, until, deadline_s, interval_s=0.02)


def make_settings(**overrides: Any) -> Settings:
    base: dict[str, Any] = {
        "env": "test",
        "database_url": "sqlite+aiosqlite:///./var/test-" + secrets.token_hex(4) + ".sqlite3",
        "redis_url": "",
        "secret_key": SecretStr("test-secret-" + secrets.token_hex(8)),
        "data_key": SecretStr("test-data-key-" + secrets.token_hex(8)),
        "watch_interval_s": 3600,  # the change watcher runs when a test asks (tests/notify)
        "erp_probe_interval_s": 3600,  # one probe at start: no probe inside a test's count of ERP calls
        # Every test client is 127.0.0.1: limits per IP and global are tested on their own (tests/abuse).
        "bind_max_attempts_per_ip": 100_000,
        "bind_max_attempts_global": 100_000,
        "rate_limit_ip": "100000/minute",
        "rate_limit_global": "100000/minute",
        "rate_limit_user": "100000/minute",
        "erp_calls_per_user": "1000000/hour",
        # Tests fire up to 100 requests at once; shedding load is tests/test_overload.py's subject.
        "max_inflight": 200,
        "max_inflight_per_user": 400,  # and one purchaser's share of them: tests/test_edge.py's subject
        "max_inflight_per_ip": 400,
        "ops_refresh_s": 0,  # health and /metrics as of now: tests read them right after what they check
        # Viewers kept a minute, not seconds: a change that forgets to say so (bff/auth/viewers.py)
        # fails the test that makes it, instead of passing because the kept viewer had expired.
        "viewer_cache_s": 60,
        # The ERP's time limits with room for a busy machine (CI beside other work): a request held
        # up by the CPU, not by the ERP, must not turn into ERP_UNAVAILABLE. Tests of the limits
        # themselves set them (tests/test_erp_faults.py, tests/test_abuse.py, tests/erp).
        "erp_timeout_s": 10.0,
        "erp_deadline_s": 12.0,
        "erp_request_budget_s": 15.0,
        "erp_pool_wait_s": 5.0,
    }
    base.update(overrides)
    return Settings(**base)

@asynccontextmanager
async def backend_stack(backend: str, **stack_options: Any) -> AsyncIterator[DemoStack]:
    """A demo stack on ``backend`` ("sqlite": a throwaway file and the memory cache; "mariadb": a
    throwaway MariaDB database and Redis), removed afterwards; ``stack_options`` go to
    ``start_demo_stack`` (its simulators' configuration)."""
    from bff.demo import start_demo_stack

    handle = None
    if backend == "mariadb":
        require_service(MYSQL_URL, 3306, "MariaDB")
        require_service(REDIS_URL, 6379, "Redis")
        await flush_redis()
        url, handle = await create_mysql_database()
        settings = make_settings(database_url=url, redis_url=REDIS_URL)
    else:
        settings = make_settings()
    demo = await start_demo_stack(base_settings=settings, **stack_options)
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


def wait_until_serving(url: str, process: subprocess.Popen[bytes], timeout_s: float = 30) -> None:
    """Until ``bff serve`` at ``url`` answers its liveness probe (fails if it exits or takes longer)."""
    deadline = time.monotonic() + timeout_s
    while True:
        assert process.poll() is None and time.monotonic() < deadline, "bff serve did not come up"
        try:
            if httpx.get(url + "/api/health/check", params={"probe": "live"}, timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)  # not listening yet: poll again until the deadline



async def read_request_head(reader: asyncio.StreamReader) -> bytes:
    """What a hand-written loopback server reads of a request: up to the blank line after the
    headers, or less if the client went away first."""
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = await reader.read(4096)
        if not chunk:
            break
        head += chunk
    return head


def free_port() -> int:
    """A loopback port free now (for a server started in another process)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# Settings that pass production's checks (fake, but of real shape and strength).
REAL = {
    "env": "production",
    "secret_key": SecretStr("a-real-production-secret-0123456789"),
    "data_key": SecretStr("a-real-production-data-key-0123456789"),
    "wx_appid": "wx1234567890abcdef",
    "wx_secret": SecretStr("0f3a9c7e5b1d2846af0c9e3b7d5a1f82"),  # WeChat AppSecrets are 32 hex characters
    "erp_account": "13911112222",
    "erp_password": SecretStr("real-erp-password"),
    "public_url": "https://bff.example.cn",
}


OTHER_DATA = """query($page: Int!) { orders(page: $page, pageSize: 20) { items { id code customerName
  materials { id name } shipments { id code trackingNumber attachments { url } } } } }"""


async def other_company_ids(http: httpx.AsyncClient, stack: DemoStack) -> dict[str, Any]:
    """What a purchaser of the other company sees: their orders, lines, shipments."""
    token = await stack.login("isolation-other", stack.demo["other_customer"]["invite_code"])
    answer = await GraphQLClient(http, token)(OTHER_DATA, {"page": 1})
    assert answer.get("data"), answer
    items = answer["data"]["orders"]["items"]
    assert items, "the other company has orders"
    shipped = next(o for o in items if o["shipments"])
    attachment = next((a["url"] for o in items for s in o["shipments"] for a in s["attachments"]), None)
    return {
        "order_id": items[0]["id"],
        "order_code": items[0]["code"],
        "material_id": items[0]["materials"][0]["id"],
        "shipment_id": shipped["shipments"][0]["id"],
        "tracking": shipped["shipments"][0]["trackingNumber"],
        "attachment": attachment,
        "name": stack.demo["other_customer"]["name"],
    }


def assert_truthful(steps: list[dict[str, Any]]) -> None:
    """The rules every timeline keeps (also checked over the demo's orders and every dialect,
    tests/test_erp_dialects.py): one current step, no finished step after it, a step under way
    (in progress) is neither finished nor the current one."""
    current = [i for i, s in enumerate(steps) if s["current"]]
    assert len(current) == 1, steps
    assert not any(s["done"] for s in steps[current[0] + 1:]), steps
    assert not any(s.get("inProgress") and (s["done"] or s["current"]) for s in steps), steps
