"""msgSecCheck: the simulator's verdicts, and WechatClient.msg_sec_check on top of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bff.wechat import WechatClient, WxApiError


@pytest.fixture
async def writer(client: WechatClient, control: Callable[..., Any]) -> str:
    """An openid that has used the mini program (msgSecCheck needs a recent visitor)."""
    login = await control("/__sim/wx-login", user="writer")
    return (await client.code_to_session(login["code"])).openid


@pytest.mark.parametrize(
    ("text", "verdict"), [("王采购", "pass"), ("<script>alert(1)</script>", "risky"), ("加微信领红包", "review")]
)
async def test_verdicts(client: WechatClient, writer: str, text: str, verdict: str) -> None:
    assert await client.msg_sec_check(writer, text) == verdict


async def test_a_stranger_is_refused(client: WechatClient) -> None:
    with pytest.raises(WxApiError) as raised:
        await client.msg_sec_check("o-never-logged-in", "王采购")
    assert raised.value.errcode == 61010


async def test_refused_token_is_refreshed_once(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], writer: str
) -> None:
    await client.access_token()
    await control("/__sim/faults", invalidate_tokens=True)
    await control("/__sim/stats/reset")
    assert await client.msg_sec_check(writer, "王采购") == "pass"
    stats = (await wx.get("/__sim/stats")).json()
    assert stats["msg_sec_check"] == 2 and stats["stable_token"] == 1
