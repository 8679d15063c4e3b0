"""HTTP face of the WeChat simulator: WeChat's endpoints plus a ``/__sim`` control API.

Protocol errors are HTTP 200 with ``{"errcode", "errmsg"}`` (as WeChat answers);
control-API misuse is HTTP 400 ``{"error": "..."}`` so a broken test fails loudly.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bff.sim.http import control, read_object
from bff.sim.http import json_response as _json
from bff.sim.http import read_json as _body
from bff.sim.wechat.state import WechatSim, WechatSimConfig, error

Handler = Callable[[Request], Awaitable[Response]]


def _sim(request: Request) -> WechatSim:
    sim: WechatSim = request.app.state.sim
    return sim


def protocol(handler: Handler) -> Handler:
    """The request is received whole, then the injected latency, then the answer: like WeChat,
    a request that arrived is processed even if the caller has gone meanwhile."""

    async def wrapped(request: Request) -> Response:
        await request.body()  # cached on the request for the handler
        delay = _sim(request).faults.latency_ms
        if delay > 0:
            await asyncio.sleep(delay / 1000)
        return await handler(request)

    return wrapped


# --- WeChat's endpoints -----------------------------------------------------------------

@protocol
async def jscode2session(request: Request) -> Response:
    q = request.query_params
    return _json(
        _sim(request).jscode2session(
            q.get("appid", ""), q.get("secret", ""), q.get("js_code", ""), q.get("grant_type", "")
        )
    )


@protocol
async def token(request: Request) -> Response:
    q = request.query_params
    return _json(_sim(request).token(q.get("grant_type", ""), q.get("appid", ""), q.get("secret", "")))


@protocol
async def stable_token(request: Request) -> Response:
    body = await _body(request)
    if not isinstance(body, dict):
        _sim(request).stats["stable_token"] += 1
        return _json(error(47001, "data format error"))
    return _json(
        _sim(request).stable_token(
            str(body.get("grant_type", "")),
            str(body.get("appid", "")),
            str(body.get("secret", "")),
            body.get("force_refresh") is True,
        )
    )


@protocol
async def subscribe_send(request: Request) -> Response:
    body = await _body(request)
    return _json(_sim(request).subscribe_send(request.query_params.get("access_token", ""), body))


@protocol
async def msg_sec_check(request: Request) -> Response:
    body = await _body(request)
    return _json(_sim(request).msg_sec_check(request.query_params.get("access_token", ""), body))


# --- control API --------------------------------------------------------------------------

@control
async def wx_login(request: Request) -> Response:
    body = await read_object(request)
    return _json(_sim(request).wx_login(user=body.get("user"), openid=body.get("openid"), unionid=body.get("unionid")))


@control
async def grants(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "GET":
        return _json({"grants": sim.grant_list(request.query_params.get("openid"))})
    body = await read_object(request)
    count = body.get("count", 1)
    if not isinstance(count, int):
        raise ValueError("count must be an integer")
    remaining = sim.grant(str(body["openid"]), str(body["template_id"]), count)
    return _json({"openid": body["openid"], "template_id": body["template_id"], "count": remaining})


@control
async def messages(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "DELETE":
        sim.messages.clear()
    return _json({"messages": sim.messages})


@control
async def faults(request: Request) -> Response:
    body = await read_object(request)
    known = {"latency_ms", "system_error_next", "rate_limit_next", "invalidate_tokens", "expire_tokens"}
    unknown = set(body) - known
    if unknown:
        raise ValueError(f"unknown faults: {sorted(unknown)}")
    sim = _sim(request)
    sim.set_faults(**body)
    return _json(vars(sim.faults))


@control
async def faults_reset(request: Request) -> Response:
    sim = _sim(request)
    sim.reset_faults()
    return _json(vars(sim.faults))


@control
async def block(request: Request) -> Response:
    body = await read_object(request)
    _sim(request).block(str(body["openid"]), bool(body.get("blocked", True)))
    return _json({"openid": body["openid"], "blocked": bool(body.get("blocked", True))})


@control
async def stats(request: Request) -> Response:
    return _json(_sim(request).stats_snapshot())


@control
async def stats_reset(request: Request) -> Response:
    sim = _sim(request)
    sim.stats.clear()
    return _json(sim.stats_snapshot())


def create_app(sim: WechatSim | None = None, config: WechatSimConfig | None = None) -> Starlette:
    app = Starlette(
        routes=[
            Route("/sns/jscode2session", jscode2session, methods=["GET"]),
            Route("/cgi-bin/token", token, methods=["GET"]),
            Route("/cgi-bin/stable_token", stable_token, methods=["POST"]),
            Route("/cgi-bin/message/subscribe/send", subscribe_send, methods=["POST"]),
            Route("/wxa/msg_sec_check", msg_sec_check, methods=["POST"]),
            Route("/__sim/wx-login", wx_login, methods=["POST"]),
            Route("/__sim/grants", grants, methods=["GET", "POST"]),
            Route("/__sim/messages", messages, methods=["GET", "DELETE"]),
            Route("/__sim/faults", faults, methods=["POST"]),
            Route("/__sim/faults/reset", faults_reset, methods=["POST"]),
            Route("/__sim/block", block, methods=["POST"]),
            Route("/__sim/stats", stats, methods=["GET"]),
            Route("/__sim/stats/reset", stats_reset, methods=["POST"]),
        ]
    )
    app.state.sim = sim or WechatSim(config)
    return app
