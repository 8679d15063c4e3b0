"""Issue 19, attachments: eight parallel downloads of a 50 MB file (four with a declared length,
four without) through a real `bff serve` with a 100 MB limit raise its peak memory (VmHWM) by
less than 40 MB: the file is relayed chunk by chunk, never held. Each arrives whole."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp import create_app as create_erp_app
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app
from bff.web.serving import start_server
from tests.edge_support import bff_serve, peak_rss

SIZE = 50 * 1000 * 1000
LIMIT = 100 * 1000 * 1000
PEAK_GROWTH_LIMIT = 40 * 1024 * 1024
SHIPMENTS = """query Files($id: ID!) { order(id: $id) { shipments { id attachments { name url size } } } }"""


@pytest_asyncio.fixture
async def served(tmp_path: Path) -> AsyncIterator[tuple[str, int, ErpSim, str]]:
    """`bff serve` (SQLite, memory cache) against in-process ERP and WeChat simulators: its url,
    its pid, the ERP simulator, and a bearer token of a purchaser bound to the demo customer."""
    erp_sim, wechat_sim = ErpSim(ErpSimConfig()), WechatSim(WechatSimConfig())
    erp = await start_server(create_erp_app(sim=erp_sim))
    wechat = await start_server(create_wechat_app(sim=wechat_sim))
    demo = erp_sim.demo_info()
    try:
        async with bff_serve({
            "BFF_ENV": "test", "BFF_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/files.sqlite3", "BFF_REDIS_URL": "",
            "BFF_WX_BASE_URL": wechat.url, "BFF_WX_APPID": wechat_sim.config.appid, "BFF_WX_SECRET": wechat_sim.config.secret,
            "BFF_ERP_BASE_URL": erp.url, "BFF_ERP_LOGIN_URL": erp.url, "BFF_ERP_ACCOUNT": demo["service"]["account"],
            "BFF_ERP_PASSWORD": demo["service"]["password"], "BFF_NOTIFY_ENABLED": "false", "BFF_ERP_PROBE_INTERVAL_S": "3600",
            "BFF_CALL_LOG_ENABLED": "false", "BFF_MAX_INFLIGHT_PER_USER": "8", "BFF_ATTACHMENT_MAX_BYTES": str(LIMIT),
        }) as (url, pid):
            async with httpx.AsyncClient(base_url=url, timeout=10) as http:
                code = wechat_sim.wx_login(user="downloader")["code"]
                token = (await http.post("/api/auth/wx-login", json={"code": code})).json()["token"]
                bound = await http.post("/api/auth/erp-bind", json={"inviteCode": demo["customer"]["invite_code"]},
                                        headers={"Authorization": f"Bearer {token}"})
                assert bound.status_code == 200, bound.text
            yield url, pid, erp_sim, token
    finally:
        await asyncio.gather(erp.stop(), wechat.stop())


async def attachment_urls(http: httpx.AsyncClient, placed: list[dict[str, Any]]) -> list[str]:
    payload = (await http.post("/graphql", json={"query": SHIPMENTS, "variables": {"id": placed[0]["order"]}})).json()
    assert "errors" not in payload, payload
    shipments = {s["id"]: s for s in payload["data"]["order"]["shipments"]}
    return [shipments[p["delivery"]]["attachments"][p["index"]]["url"] for p in placed]


@pytest.mark.early
async def test_parallel_large_downloads_cost_little_memory(served: tuple[str, int, ErpSim, str]) -> None:
    url, pid, erp_sim, token = served
    small = erp_sim.add_large_file(300_000, with_length=False, name="small.pdf")
    declared = erp_sim.add_large_file(SIZE, with_length=True, name="declared.pdf")
    undeclared = erp_sim.add_large_file(SIZE, with_length=False, name="undeclared.pdf")
    async with httpx.AsyncClient(base_url=url, timeout=60, headers={"Authorization": f"Bearer {token}"}) as http:
        warm_url, declared_url, undeclared_url = await attachment_urls(http, [small, declared, undeclared])

        async def download(file_url: str) -> tuple[int, int, str | None]:
            received = 0
            async with http.stream("GET", file_url) as answer:
                async for chunk in answer.aiter_raw():
                    received += len(chunk)
                return answer.status_code, received, answer.headers.get("content-length")

        warm = await download(warm_url)  # the download path run once: the baseline includes its code
        before = peak_rss(pid)
        answers = await asyncio.gather(*(download(declared_url if i % 2 else undeclared_url) for i in range(8)))
        after = peak_rss(pid)
    assert warm[:2] == (200, 300_000)
    assert [(status, received) for status, received, _ in answers] == [(200, SIZE)] * 8
    assert sorted(length or "" for _, _, length in answers) == [""] * 4 + [str(SIZE)] * 4
    assert after - before < PEAK_GROWTH_LIMIT, f"peak memory grew by {(after - before) / 2**20:.0f} MB"
    print(f"peak memory growth: {(after - before) / 2**20:.1f} MB over 8 x {SIZE / 1e6:.0f} MB")
