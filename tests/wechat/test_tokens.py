"""Access tokens at the simulator (/cgi-bin/token, /cgi-bin/stable_token) and WechatClient.access_token."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bff.sim.wechat import WechatSim
from bff.wechat import WechatClient, WxApiError
from bff.wechat.errors import WxRefused


async def plain_token(wx: httpx.AsyncClient, sim: WechatSim) -> dict[str, Any]:
    params = {"grant_type": "client_credential", "appid": sim.config.appid, "secret": sim.config.secret}
    return dict((await wx.get("/cgi-bin/token", params=params)).json())


async def stable_token(wx: httpx.AsyncClient, sim: WechatSim, force: bool = False, **override: Any) -> dict[str, Any]:
    body = {"grant_type": "client_credential", "appid": sim.config.appid, "secret": sim.config.secret,
            "force_refresh": force, **override}
    return dict((await wx.post("/cgi-bin/stable_token", json=body)).json())


async def send_status(wx: httpx.AsyncClient, token: str) -> int:
    """errcode of a send with ``token`` to an unknown user: 40003 means the token itself passed."""
    answer = await wx.post("/cgi-bin/message/subscribe/send", params={"access_token": token},
                           json={"touser": "oNobody", "template_id": "TPL_ORDER_STATUS", "data": {}})
    return int(answer.json()["errcode"])


async def test_plain_token_is_new_each_call_with_grace(wx: httpx.AsyncClient, sim: WechatSim, clock: Any) -> None:
    first = await plain_token(wx, sim)
    second = await plain_token(wx, sim)
    assert first["expires_in"] == 7200 and first["access_token"] != second["access_token"]
    assert await send_status(wx, first["access_token"]) == 40003  # still valid within the grace period
    clock.advance(sim.config.token_grace_s + 1)
    assert await send_status(wx, first["access_token"]) == 40001
    assert await send_status(wx, second["access_token"]) == 40003


async def test_stable_token_is_the_same_until_it_expires(wx: httpx.AsyncClient, sim: WechatSim, clock: Any) -> None:
    first = await stable_token(wx, sim)
    clock.advance(100)
    second = await stable_token(wx, sim)
    assert second["access_token"] == first["access_token"]
    assert second["expires_in"] == first["expires_in"] - 100
    clock.advance(sim.config.token_ttl_s)
    assert await send_status(wx, first["access_token"]) == 42001
    third = await stable_token(wx, sim)
    assert third["access_token"] != first["access_token"] and third["expires_in"] == 7200


async def test_stable_token_force_refresh(wx: httpx.AsyncClient, sim: WechatSim) -> None:
    first = await stable_token(wx, sim)
    forced = await stable_token(wx, sim, force=True)
    assert forced["access_token"] != first["access_token"]
    assert (await stable_token(wx, sim))["access_token"] == forced["access_token"]


async def test_token_credentials_are_checked(wx: httpx.AsyncClient, sim: WechatSim) -> None:
    assert (await stable_token(wx, sim, secret="wrong"))["errcode"] == 40125
    assert (await stable_token(wx, sim, appid="wx-other"))["errcode"] == 40013
    assert (await stable_token(wx, sim, grant_type="password"))["errcode"] == 40002
    assert await send_status(wx, "made-up-token") == 40001


async def test_token_faults(wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]) -> None:
    token = (await stable_token(wx, sim))["access_token"]
    await control("/__sim/faults", expire_tokens=True)
    assert await send_status(wx, token) == 42001
    token = (await stable_token(wx, sim))["access_token"]  # expired: a new one without forcing
    await control("/__sim/faults", invalidate_tokens=True)
    assert await send_status(wx, token) == 40001
    assert (await stable_token(wx, sim))["access_token"] == token  # stable: forcing is the way out
    assert await send_status(wx, (await stable_token(wx, sim, force=True))["access_token"]) == 40003
    stats = (await wx.get("/__sim/stats")).json()
    assert stats["stable_token"] == 4 and stats["subscribe_send"] == 3 and stats["token"] == 0


async def test_client_concurrent_callers_share_one_request(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any]
) -> None:
    await control("/__sim/faults", latency_ms=50)  # keep the first request in flight while the rest arrive
    tokens = await asyncio.gather(*(client.access_token() for _ in range(50)))
    assert len(set(tokens)) == 1
    assert (await wx.get("/__sim/stats")).json()["stable_token"] == 1
    assert await client.access_token() == tokens[0]  # cached
    assert (await wx.get("/__sim/stats")).json()["stable_token"] == 1


async def test_client_force_refresh_gets_a_new_token(client: WechatClient, wx: httpx.AsyncClient) -> None:
    first = await client.access_token()
    forced = await client.access_token(force_refresh=True)
    assert forced != first and await client.access_token() == forced
    assert (await wx.get("/__sim/stats")).json()["stable_token"] == 2


async def test_client_cache_ttl_is_shorter_than_expires_in(client: WechatClient, monkeypatch: pytest.MonkeyPatch) -> None:
    ttls: list[int] = []
    original = client.token_cache.set

    async def recording_set(key: str, value: Any, ttl: int | None = None, **kwargs: Any) -> Any:
        ttls.append(ttl or 0)
        return await original(key, value, ttl=ttl, **kwargs)

    monkeypatch.setattr(client.token_cache, "set", recording_set)
    token = await client.access_token()
    assert ttls == [6900]  # 7200 minus a 300 s margin
    assert await client.token_cache.get(client.token_key) == token


async def test_client_token_system_error_is_retried(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any]
) -> None:
    await control("/__sim/faults", system_error_next=2)
    assert await client.access_token()
    assert (await wx.get("/__sim/stats")).json()["stable_token"] == 3


async def test_client_wrong_secret_for_token(in_process: Callable[..., httpx.AsyncClient], sim: WechatSim) -> None:
    async with in_process() as http:
        client = WechatClient("http://wx.sim", sim.config.appid, "not-the-secret", http)
        with pytest.raises(WxApiError) as caught:
            await client.access_token()
    assert caught.value.errcode == 40125 and isinstance(caught.value, WxRefused)
    assert "not-the-secret" not in str(caught.value)
