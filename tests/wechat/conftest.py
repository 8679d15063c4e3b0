"""A fresh WeChat simulator per test, its control client, and a WechatClient.

Both talk to the simulator's app in process (``httpx.ASGITransport``): the same HTTP requests
and answers as over loopback, without a uvicorn server per test. The simulator over a real socket
is what the BFF's own tests use (the demo stack); an unreachable WeChat is a closed port here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette

from bff.sim.wechat import WechatSim, WechatSimConfig, create_app
from bff.wechat import WechatClient


class FakeClock:
    """Lets a test move the simulator's time instead of sleeping."""

    def __init__(self, now: float = 1_700_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sim_config() -> WechatSimConfig:
    return WechatSimConfig()


@pytest.fixture
def sim(sim_config: WechatSimConfig, clock: FakeClock) -> WechatSim:
    return WechatSim(sim_config, clock=clock)


WX_URL = "http://wx.sim"  # the simulator's address for in-process clients


@pytest.fixture
def app(sim: WechatSim) -> Starlette:
    return create_app(sim=sim)


@pytest.fixture
def in_process(app: Starlette) -> Callable[..., httpx.AsyncClient]:
    """A new client of the simulator's app, in process (what ``WechatClient`` is given as ``http``)."""

    def make(**options: Any) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), timeout=5, **options)

    return make


@pytest_asyncio.fixture
async def wx(in_process: Callable[..., httpx.AsyncClient]) -> AsyncIterator[httpx.AsyncClient]:
    """Talks to the simulator directly: protocol endpoints and /__sim control."""
    async with in_process(base_url=WX_URL) as client:
        yield client


@pytest_asyncio.fixture
async def client(in_process: Callable[..., httpx.AsyncClient], sim: WechatSim) -> AsyncIterator[WechatClient]:
    async with in_process() as http:
        yield WechatClient(WX_URL, sim.config.appid, sim.config.secret, http)


@pytest.fixture
def control(wx: httpx.AsyncClient) -> Callable[..., Any]:
    """POST to the control API and return its JSON, failing on a control-API error."""

    async def post(path: str, **body: Any) -> Any:
        answer = await wx.post(path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    return post
