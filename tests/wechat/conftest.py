"""A fresh WeChat simulator on loopback per test, its control client, and a WechatClient."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.web.serving import RunningServer, start_server
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


@pytest_asyncio.fixture
async def server(sim: WechatSim) -> AsyncIterator[RunningServer]:
    running = await start_server(create_app(sim=sim))
    try:
        yield running
    finally:
        await running.stop()


@pytest_asyncio.fixture
async def wx(server: RunningServer) -> AsyncIterator[httpx.AsyncClient]:
    """Talks to the simulator directly: protocol endpoints and /__sim control."""
    async with httpx.AsyncClient(base_url=server.url, timeout=5) as client:
        yield client


@pytest_asyncio.fixture
async def client(server: RunningServer, sim: WechatSim) -> AsyncIterator[WechatClient]:
    async with httpx.AsyncClient(timeout=5) as http:
        yield WechatClient(server.url, sim.config.appid, sim.config.secret, http)


@pytest.fixture
def control(wx: httpx.AsyncClient) -> Callable[..., Any]:
    """POST to the control API and return its JSON, failing on a control-API error."""

    async def post(path: str, **body: Any) -> Any:
        answer = await wx.post(path, json=body)
        assert answer.status_code == 200, answer.text
        return answer.json()

    return post
