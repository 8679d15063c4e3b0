"""The login code flow at the simulator, and WechatClient.code_to_session on top of it."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bff.core.errors import ErrorCode
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.web.errors import public_error
from bff.wechat import WechatClient, WxApiError
from bff.wechat.errors import WxAccountBlocked, WxLoginCodeInvalid, WxLoginRefused, WxRateLimited, WxUnavailable


async def exchange(wx: httpx.AsyncClient, sim: WechatSim, code: str, **override: str) -> dict[str, Any]:
    params = {"appid": sim.config.appid, "secret": sim.config.secret, "js_code": code,
              "grant_type": "authorization_code", **override}
    answer = await wx.get("/sns/jscode2session", params=params)
    assert answer.status_code == 200  # WeChat answers errors with HTTP 200 too
    return dict(answer.json())


async def test_wx_login_gives_a_stable_openid_and_fresh_codes(control: Callable[..., Any]) -> None:
    first = await control("/__sim/wx-login", user="alice")
    second = await control("/__sim/wx-login", user="alice")
    other = await control("/__sim/wx-login", user="bob")
    assert first["openid"] == second["openid"] != other["openid"]
    assert first["openid"].startswith("o") and len(first["openid"]) == 28
    assert first["code"] != second["code"]


async def test_valid_code_gives_openid_session_key_and_unionid(
    wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]
) -> None:
    login = await control("/__sim/wx-login", user="alice")
    answer = await exchange(wx, sim, login["code"])
    assert answer["openid"] == login["openid"]
    assert len(base64.b64decode(answer["session_key"])) == 16
    again = await exchange(wx, sim, (await control("/__sim/wx-login", user="alice"))["code"])
    assert again["unionid"] == answer["unionid"]
    assert again["session_key"] != answer["session_key"]  # new on each exchange


async def test_openid_login_without_unionid(wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]) -> None:
    login = await control("/__sim/wx-login", openid="oFixedOpenid")
    answer = await exchange(wx, sim, login["code"])
    assert answer["openid"] == "oFixedOpenid" and "unionid" not in answer
    with_union = await control("/__sim/wx-login", openid="oOther", unionid="oUnion")
    assert (await exchange(wx, sim, with_union["code"]))["unionid"] == "oUnion"


async def test_code_is_single_use(wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]) -> None:
    code = (await control("/__sim/wx-login", user="alice"))["code"]
    assert "openid" in await exchange(wx, sim, code)
    assert (await exchange(wx, sim, code))["errcode"] == 40163


async def test_unknown_code(wx: httpx.AsyncClient, sim: WechatSim) -> None:
    assert (await exchange(wx, sim, "no-such-code"))["errcode"] == 40029


async def test_code_expires(wx: httpx.AsyncClient, sim: WechatSim, clock: Any, control: Callable[..., Any]) -> None:
    fresh = (await control("/__sim/wx-login", user="alice"))["code"]
    stale = (await control("/__sim/wx-login", user="alice"))["code"]
    clock.advance(sim.config.code_ttl_s - 1)
    assert "openid" in await exchange(wx, sim, fresh)
    clock.advance(2)
    assert (await exchange(wx, sim, stale))["errcode"] == 40029


async def test_tiny_code_ttl_in_real_time() -> None:
    config = WechatSimConfig(code_ttl_s=0.05)
    real = WechatSim(config)  # the wall clock, as the demo runs it
    code = real.wx_login(user="alice")["code"]
    await asyncio.sleep(0.1)
    assert real.jscode2session(config.appid, config.secret, code, "authorization_code")["errcode"] == 40029


async def test_wrong_app_credentials(wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]) -> None:
    code = (await control("/__sim/wx-login", user="alice"))["code"]
    assert (await exchange(wx, sim, code, secret="wrong"))["errcode"] == 40125
    assert (await exchange(wx, sim, code, appid="wx-other"))["errcode"] == 40013
    assert "openid" in await exchange(wx, sim, code)  # refused calls did not spend the code


async def test_blocked_user(wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]) -> None:
    login = await control("/__sim/wx-login", user="mallory")
    await control("/__sim/block", openid=login["openid"])
    assert (await exchange(wx, sim, login["code"]))["errcode"] == 40226


async def test_per_openid_rate_limit(wx: httpx.AsyncClient, sim: WechatSim, clock: Any) -> None:
    for _ in range(100):
        assert "openid" in sim.jscode2session(sim.config.appid, sim.config.secret, sim.wx_login(user="busy")["code"], "authorization_code")
    code = sim.wx_login(user="busy")["code"]
    assert (await exchange(wx, sim, code))["errcode"] == 45011
    assert "openid" in await exchange(wx, sim, sim.wx_login(user="calm")["code"])  # per user
    clock.advance(61)
    assert "openid" in await exchange(wx, sim, code)


async def test_injected_faults(wx: httpx.AsyncClient, sim: WechatSim, control: Callable[..., Any]) -> None:
    await control("/__sim/faults", system_error_next=1, rate_limit_next=1)
    code = (await control("/__sim/wx-login", user="alice"))["code"]
    assert (await exchange(wx, sim, code))["errcode"] == -1
    assert (await exchange(wx, sim, code))["errcode"] == 45011
    assert "openid" in await exchange(wx, sim, code)
    assert (await wx.get("/__sim/stats")).json()["jscode2session"] == 3
    await control("/__sim/stats/reset")
    assert (await wx.get("/__sim/stats")).json()["jscode2session"] == 0


async def test_control_api_refuses_nonsense(wx: httpx.AsyncClient) -> None:
    assert (await wx.post("/__sim/faults", json={"explode": True})).status_code == 400
    assert (await wx.post("/__sim/wx-login", json={})).status_code == 400


# --- WechatClient.code_to_session ------------------------------------------------------------

async def test_client_exchanges_a_code(client: WechatClient, control: Callable[..., Any]) -> None:
    login = await control("/__sim/wx-login", user="alice")
    session = await client.code_to_session(login["code"])
    assert session.openid == login["openid"] and session.unionid and len(session.session_key) == 24
    assert session.session_key not in repr(session)


@pytest.mark.parametrize(
    ("prepare", "errcode", "kind", "code"),
    [("reuse", 40163, WxLoginCodeInvalid, ErrorCode.WX_LOGIN_FAILED),
     ("unknown", 40029, WxLoginCodeInvalid, ErrorCode.WX_LOGIN_FAILED),
     ("block", 40226, WxAccountBlocked, ErrorCode.WX_LOGIN_FAILED), ("rate", 45011, WxRateLimited, ErrorCode.RATE_LIMITED)],
)
async def test_client_classifies_login_errors(
    client: WechatClient, control: Callable[..., Any], prepare: str, errcode: int, kind: type[WxApiError], code: ErrorCode
) -> None:
    login = await control("/__sim/wx-login", user="alice")
    js_code = login["code"]
    if prepare == "reuse":
        await client.code_to_session(js_code)
    elif prepare == "unknown":
        js_code = "no-such-code"
    elif prepare == "block":
        await control("/__sim/block", openid=login["openid"])
    else:
        await control("/__sim/faults", rate_limit_next=1)
    with pytest.raises(WxApiError) as caught:
        await client.code_to_session(js_code)
    assert caught.value.errcode == errcode and type(caught.value) is kind
    public = public_error(caught.value)  # the purchaser's code and Chinese message come from the one table
    assert public is not None and public.code == code
    assert any("\u4e00" <= ch <= "\u9fff" for ch in public.message)


async def test_client_retries_one_system_error(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any]
) -> None:
    login = await control("/__sim/wx-login", user="alice")
    await control("/__sim/faults", system_error_next=1)
    session = await client.code_to_session(login["code"])
    assert session.openid == login["openid"]
    assert (await wx.get("/__sim/stats")).json()["jscode2session"] == 2


async def test_client_gives_up_on_persistent_system_error(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any]
) -> None:
    login = await control("/__sim/wx-login", user="alice")
    await control("/__sim/faults", system_error_next=100)
    with pytest.raises(WxApiError) as caught:
        await client.code_to_session(login["code"])
    assert isinstance(caught.value, WxUnavailable) and caught.value.errcode == -1
    assert (await wx.get("/__sim/stats")).json()["jscode2session"] == 3  # one call, two retries


async def test_client_unreachable_wechat_is_unavailable() -> None:
    async with httpx.AsyncClient(timeout=1) as http:
        client = WechatClient("http://127.0.0.1:9", "wx-demo-appid", "s3cret-value", http)
        with pytest.raises(WxApiError) as caught:
            await client.code_to_session("any")
    assert isinstance(caught.value, WxUnavailable)
    assert "s3cret-value" not in str(caught.value) and "s3cret-value" not in repr(client)


async def test_client_wrong_secret_is_not_echoed(in_process: Callable[..., httpx.AsyncClient], sim: WechatSim, control: Callable[..., Any]) -> None:
    login = await control("/__sim/wx-login", user="alice")
    async with in_process() as http:
        client = WechatClient("http://wx.sim", sim.config.appid, "not-the-secret", http)
        with pytest.raises(WxApiError) as caught:
            await client.code_to_session(login["code"])
    assert caught.value.errcode == 40125 and type(caught.value) is WxLoginRefused
    assert "not-the-secret" not in str(caught.value)


async def test_client_retries_5xx_then_succeeds() -> None:
    answers = iter([httpx.Response(502, text="bad gateway"), httpx.Response(200, json={"openid": "oX", "session_key": "k"})])
    calls: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        return next(answers)

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        session = await WechatClient("http://wx.test", "wx-demo-appid", "s3cret", http).code_to_session("c")
    assert session.openid == "oX" and session.unionid is None and len(calls) == 2
