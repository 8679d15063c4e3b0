"""Subscription messages: the simulator's rules, and WechatClient.send_subscribe on top of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from bff.sim.wechat import DEFAULT_TEMPLATES, WechatSim
from bff.web.errors import public_error
from bff.wechat import WechatClient, WxApiError
from bff.wechat.errors import WxRefused
from bff.wechat.value_rules import key_type, violation

STATUS_DATA = {
    "character_string1": "SO-2024-0001",
    "thing2": "不锈钢六角螺栓 M8×30 等3项",
    "phrase3": "已发货",
    "time4": "2024年5月1日 15:01",
    "thing5": "请留意查收",
}


@pytest.fixture
async def purchaser(client: WechatClient, control: Callable[..., Any]) -> str:
    """An openid that has logged in (so WeChat knows it as a touser)."""
    login = await control("/__sim/wx-login", user="purchaser")
    return (await client.code_to_session(login["code"])).openid


async def messages(wx: httpx.AsyncClient) -> list[dict[str, Any]]:
    return list((await wx.get("/__sim/messages")).json()["messages"])


async def grants(wx: httpx.AsyncClient, openid: str) -> dict[str, int]:
    listed = (await wx.get("/__sim/grants", params={"openid": openid})).json()["grants"]
    return {g["template_id"]: g["count"] for g in listed}


async def send_error(client: WechatClient, **kwargs: Any) -> WxApiError:
    with pytest.raises(WxApiError) as caught:
        await client.send_subscribe(**kwargs)
    return caught.value


def test_default_templates_are_consistent() -> None:
    assert set(DEFAULT_TEMPLATES) == {"TPL_ORDER_STATUS", "TPL_PRODUCTION_DONE", "TPL_ORDER_SHIPPED", "TPL_ADMIN_ALERT"}
    for keys in DEFAULT_TEMPLATES.values():
        assert all(key_type(key) == kind for key, kind in keys.items())
    assert all(violation(key_type(k) or "", v) is None for k, v in STATUS_DATA.items())


async def test_send_spends_a_grant_and_stores_the_message(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str
) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS", count=2)
    msgid = await client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, "pages/order/detail?id=1")
    assert msgid > 0
    assert await grants(wx, purchaser) == {"TPL_ORDER_STATUS": 1}
    [stored] = await messages(wx)
    assert stored["msgid"] == msgid and stored["touser"] == purchaser
    assert stored["template_id"] == "TPL_ORDER_STATUS" and stored["page"] == "pages/order/detail?id=1"
    assert stored["data"] == STATUS_DATA and stored["miniprogram_state"] == "formal" and stored["time"]
    second = await client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, None)
    assert second != msgid and await grants(wx, purchaser) == {"TPL_ORDER_STATUS": 0}
    assert (await wx.delete("/__sim/messages")).json() == {"messages": []}
    assert await messages(wx) == []


async def test_no_grant_is_43101(client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str) -> None:
    error = await send_error(client, touser=purchaser, template_id="TPL_ORDER_STATUS", data=STATUS_DATA, page=None)
    assert error.errcode == 43101
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS")
    await client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, None)
    error = await send_error(client, touser=purchaser, template_id="TPL_ORDER_STATUS", data=STATUS_DATA, page=None)
    assert error.errcode == 43101  # one accept, one message
    assert len(await messages(wx)) == 1


@pytest.mark.parametrize(
    ("key", "value"),
    [("thing2", "超" * 21), ("phrase3", "shipped"), ("time4", "明天"), ("character_string1", "订单 1"), ("thing5", None)],
)
async def test_bad_value_is_47003_naming_the_key(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str, key: str, value: str | None
) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS")
    data = {k: v for k, v in STATUS_DATA.items() if k != key}
    if value is not None:
        data[key] = value
    error = await send_error(client, touser=purchaser, template_id="TPL_ORDER_STATUS", data=data, page=None)
    assert error.errcode == 47003 and f"data.{key}.value" in error.errmsg
    assert await grants(wx, purchaser) == {"TPL_ORDER_STATUS": 1}  # a refused message spends nothing
    assert await messages(wx) == []


async def test_bad_template_is_40037(client: WechatClient, purchaser: str) -> None:
    error = await send_error(client, touser=purchaser, template_id="TPL_NOPE", data=STATUS_DATA, page=None)
    assert error.errcode == 40037 and isinstance(error, WxRefused)


async def test_bad_page_is_41030(client: WechatClient, control: Callable[..., Any], purchaser: str) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS")
    error = await send_error(client, touser=purchaser, template_id="TPL_ORDER_STATUS", data=STATUS_DATA, page="/order/1")
    assert error.errcode == 41030


async def test_unknown_openid_is_40003(client: WechatClient, control: Callable[..., Any]) -> None:
    never_logged_in = (await control("/__sim/wx-login", user="stranger"))["openid"]
    await control("/__sim/grants", openid=never_logged_in, template_id="TPL_ORDER_STATUS")
    error = await send_error(client, touser=never_logged_in, template_id="TPL_ORDER_STATUS", data=STATUS_DATA, page=None)
    assert error.errcode == 40003


async def test_bad_miniprogram_state(client: WechatClient, control: Callable[..., Any], purchaser: str) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS")
    error = await send_error(client, touser=purchaser, template_id="TPL_ORDER_STATUS", data=STATUS_DATA, page=None,
                             miniprogram_state="production")
    assert error.errcode == 47003
    assert await client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, None, miniprogram_state="trial")


@pytest.mark.parametrize("fault", ["invalidate_tokens", "expire_tokens"])
async def test_refused_token_is_refreshed_once_and_the_message_goes(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str, fault: str
) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS")
    await client.access_token()
    await control("/__sim/faults", **{fault: True})
    await control("/__sim/stats/reset")
    msgid = await client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, None)
    stats = (await wx.get("/__sim/stats")).json()
    assert stats["subscribe_send"] == 2  # refused, then sent
    assert stats["stable_token"] == 1  # the forced refresh
    assert [m["msgid"] for m in await messages(wx)] == [msgid]


async def test_token_fetched_then_refreshed_counts_two(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str
) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_SHIPPED")
    await control("/__sim/stats/reset")
    await client.access_token()
    await control("/__sim/faults", invalidate_tokens=True)
    shipped = {"character_string1": "SO-2024-0001", "thing2": "六角螺栓", "thing3": "顺丰速运",
               "character_string4": "SF1234567890123", "time5": "2024年5月2日 09:30"}
    await client.send_subscribe(purchaser, "TPL_ORDER_SHIPPED", shipped, "pages/order/detail?id=1")
    assert (await wx.get("/__sim/stats")).json()["stable_token"] == 2


async def test_token_refused_twice_gives_up(
    client: WechatClient, wx: httpx.AsyncClient, sim: WechatSim, purchaser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sim, "_check_token", lambda token: {"errcode": 40001, "errmsg": "invalid credential"})
    error = await send_error(client, touser=purchaser, template_id="TPL_ORDER_STATUS", data=STATUS_DATA, page=None)
    assert error.errcode == 40001
    assert (await wx.get("/__sim/stats")).json()["subscribe_send"] == 2  # refresh once, repeat once


async def test_concurrent_sends_share_one_refresh(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str
) -> None:
    import asyncio

    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS", count=10)
    await client.access_token()
    await control("/__sim/faults", invalidate_tokens=True)
    await control("/__sim/stats/reset")
    await asyncio.gather(*(client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, None) for _ in range(10)))
    assert (await wx.get("/__sim/stats")).json()["stable_token"] == 1
    assert len(await messages(wx)) == 10


async def test_send_system_error_is_retried(
    client: WechatClient, wx: httpx.AsyncClient, control: Callable[..., Any], purchaser: str
) -> None:
    await control("/__sim/grants", openid=purchaser, template_id="TPL_ORDER_STATUS")
    await client.access_token()
    await control("/__sim/faults", system_error_next=1)
    await client.send_subscribe(purchaser, "TPL_ORDER_STATUS", STATUS_DATA, None)
    assert len(await messages(wx)) == 1


async def test_grants_control_api(wx: httpx.AsyncClient, control: Callable[..., Any]) -> None:
    assert (await control("/__sim/grants", openid="oA", template_id="TPL_ADMIN_ALERT", count=3))["count"] == 3
    assert (await wx.post("/__sim/grants", json={"openid": "oA", "template_id": "TPL_NOPE"})).status_code == 400
    assert (await wx.get("/__sim/grants")).json()["grants"] == [{"openid": "oA", "template_id": "TPL_ADMIN_ALERT", "count": 3}]


async def test_session_key_and_secret_never_in_client_errors(
    client: WechatClient, sim: WechatSim, control: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    login = await control("/__sim/wx-login", user="careful")
    session = await client.code_to_session(login["code"])
    raised: list[WxApiError] = []
    for attempt in (lambda: client.code_to_session(login["code"]),  # reuse
                    lambda: client.code_to_session("bogus"),
                    lambda: client.send_subscribe(session.openid, "TPL_NOPE", {}, None)):
        with pytest.raises(WxApiError) as caught:
            await attempt()
        raised.append(caught.value)
    # WeChat echoing the secret in an errmsg must not carry it into our exception either.
    monkeypatch.setattr(sim, "jscode2session", lambda *a: {"errcode": 40125, "errmsg": f"invalid appsecret {sim.config.secret}"})
    with pytest.raises(WxApiError) as caught:
        await client.code_to_session("x")
    raised.append(caught.value)
    for error in raised:
        public = public_error(error)  # what a purchaser would read of it
        assert public is not None
        text = " ".join([str(error), repr(error), error.errmsg, public.message, str(public.details)])
        assert session.session_key not in text and sim.config.secret not in text
    assert "***" in raised[-1].errmsg
