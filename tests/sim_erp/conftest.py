"""A fresh ERP simulator per test, a raw client and a logged-in client.

The clients talk to the app in process (``httpx.ASGITransport``): fast, and the same HTTP
the BFF sees. ``server`` serves it on loopback for what needs a socket (client timeouts).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from bff.sim.erp import ErpSim, ErpSimConfig, create_app
from bff.sim.erp.state import sha1_hex
from bff.web.serving import RunningServer, start_server

APP = "SnowInventory-82886"
Post = Callable[..., Awaitable[httpx.Response]]


@pytest.fixture
def sim_config() -> ErpSimConfig:
    return ErpSimConfig()


@pytest.fixture
def sim(sim_config: ErpSimConfig) -> ErpSim:
    return ErpSim(sim_config)


@pytest.fixture
def app(sim: ErpSim) -> Starlette:
    return create_app(sim=sim)


@pytest_asyncio.fixture
async def server(app: Starlette) -> AsyncIterator[RunningServer]:
    running = await start_server(app)
    try:
        yield running
    finally:
        await running.stop()


def in_process(app: Starlette, **options: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://erp.sim", **options)


@pytest_asyncio.fixture
async def raw(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """No cookie jar: each call sends exactly the Cookie header the test gives it."""

    async def forget(response: httpx.Response) -> None:
        client.cookies.clear()

    async with in_process(app, event_hooks={"response": [forget]}) as client:
        yield client


def jar(cookies: dict[str, str]) -> dict[str, str]:
    return {"Cookie": "; ".join(f"{k}={v}" for k, v in cookies.items())}


async def login(client: httpx.AsyncClient, account: str, password: str) -> dict[str, str]:
    """The three steps done by hand; returns the cookies business calls need."""
    first = await client.post(
        "/apps/service/login", json={"state": True, "account": account, "token": "", "password": sha1_hex(password)}
    )
    assert first.status_code == 200 and "sid" in first.cookies, first.text  # success is told by cookies in every dialect
    sid = first.cookies["sid"]
    opened = await client.get("/apps/user/open-app/82886", headers=jar({"sid": sid}))
    assert opened.status_code == 302 and opened.headers["location"] == "/apps/app/82886/index"
    index = await client.get(opened.headers["location"], headers=jar({"sid": sid}))
    assert index.status_code == 200
    return {"JSESSIONID": index.cookies["JSESSIONID"], "sid": sid}


@pytest.fixture
def erp_login() -> Callable[[httpx.AsyncClient, str, str], Awaitable[dict[str, str]]]:
    """The three-step login helper, as a fixture so test modules need not import conftest."""
    return login


@pytest_asyncio.fixture
async def cookies(raw: httpx.AsyncClient) -> dict[str, str]:
    return await login(raw, "13900000000", "svc-demo-password")


@pytest.fixture
def call(raw: httpx.AsyncClient, cookies: dict[str, str]) -> Post:
    """POST a business call with the service account's session; the app name is filled in."""

    async def post(path: str, **body: Any) -> httpx.Response:
        body.setdefault("appName", APP)
        body.setdefault("condition", {})
        return await raw.post(f"/business/{path}", json=body, headers=jar(cookies))

    return post


@pytest.fixture
def rows(call: Post) -> Callable[..., Awaitable[dict[str, Any]]]:
    """getBusinessPageList's ``data`` for a successful call."""

    async def fetch(form_id: int, **body: Any) -> dict[str, Any]:
        body.setdefault("pageSize", 5000)
        answer = await call("getBusinessPageList", formId=form_id, **body)
        assert answer.status_code == 200 and answer.json()["success"] is True, answer.text
        data: dict[str, Any] = answer.json()["data"]
        return data

    return fetch
