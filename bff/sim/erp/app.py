"""HTTP face of the ERP simulator: the Snowbeasts protocol plus a ``/__sim`` control API.

Protocol calls go through ``protocol()``: counted first, then the injected faults
(outage, fail-next, hang, latency, HTTP 500, truncated JSON) as a sick ERP or its
gateway would answer. Control-API misuse is HTTP 400 ``{"error": ...}`` so tests fail loudly.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bff.sim.http import json_response as _json
from bff.sim.http import read_json as _body

from bff.sim.erp.data import file_payload
from bff.sim.erp.state import SESSION_EXPIRED, ErpSim, ErpSimConfig

Handler = Callable[[Request, Any], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

ERROR_PAGE = "<html><head><title>500 Internal Server Error</title></head><body><h1>系统繁忙，请稍后再试</h1></body></html>"
BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
UNAVAILABLE = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"


def _sim(request: Request) -> ErpSim:
    sim: ErpSim = request.app.state.sim
    return sim


def protocol(endpoint: str, *, business: bool = True) -> Callable[[Handler], Endpoint]:
    """Count the call, inject faults, demand a live application session for business calls."""

    def wrap(handler: Handler) -> Endpoint:
        async def wrapped(request: Request) -> Response:
            sim = _sim(request)
            body = await _body(request) if request.method == "POST" else {}
            form_id = body.get("formId") if isinstance(body, dict) else None
            sim.record_call(endpoint, form_id)
            faults = sim.faults
            if faults.applies_to(request.url.path):
                if faults.outage:
                    return HTMLResponse(UNAVAILABLE, 503)
                if sim.take_fail_next():
                    return HTMLResponse(BAD_GATEWAY, 502)
                if faults.hang_s > 0:
                    await asyncio.sleep(faults.hang_s)
                delay = sim.latency_s()
                if delay > 0:
                    await asyncio.sleep(delay)
                if sim.roll(faults.error_rate):
                    return HTMLResponse(ERROR_PAGE, 500)
            if business and not sim.authorised(request.cookies.get("JSESSIONID"), request.cookies.get("sid")):
                return _json(SESSION_EXPIRED, 401)
            if body is None:
                return _json({"success": False, "message": "请求格式错误"}, 400)
            response = await handler(request, body)
            if faults.applies_to(request.url.path) and sim.roll(faults.malformed_rate):
                cut = bytes(response.body)[: max(1, len(response.body) // 2)]
                return Response(cut, 200, media_type="application/json")
            return response

        return wrapped

    return wrap


# --- login: three steps, cookies only ---------------------------------------------------------

@protocol("/apps/service/login", business=False)
async def login(request: Request, body: Any) -> Response:
    if not isinstance(body, dict):
        body = {}
    answer, sid = _sim(request).login(str(body.get("account", "")), str(body.get("password", "")))
    response = _json(answer)
    if sid:
        # The platform session is never checked again: business calls need the application one.
        response.set_cookie("JSESSIONID", secrets.token_hex(16).upper(), path="/", httponly=True)
        response.set_cookie("sid", sid, path="/", httponly=True)
    return response


@protocol("/apps/user/open-app", business=False)
async def open_app(request: Request, body: Any) -> Response:
    sim = _sim(request)
    app_id = request.path_params["app_id"]
    if app_id != sim.config.app_id:
        return HTMLResponse("<html><body>应用不存在</body></html>", 404)
    if not sim.sid_alive(request.cookies.get("sid")):
        return RedirectResponse("/apps/login", 302)
    return RedirectResponse(f"/apps/app/{app_id}/index", 302)


@protocol("/apps/app/index", business=False)
async def app_index(request: Request, body: Any) -> Response:
    sim = _sim(request)
    app_id = request.path_params["app_id"]
    if app_id != sim.config.app_id:
        return HTMLResponse("<html><body>应用不存在</body></html>", 404)
    jsessionid = sim.open_app(request.cookies.get("sid"))
    if jsessionid is None:
        return RedirectResponse("/apps/login", 302)
    response = HTMLResponse(f"<!DOCTYPE html><html><head><title>{sim.config.app_name}</title></head><body><div id=\"app\"></div></body></html>")
    response.set_cookie("JSESSIONID", jsessionid, path="/", httponly=True)
    return response


async def login_page(request: Request) -> Response:
    return HTMLResponse("<!DOCTYPE html><html><head><title>登录</title></head><body><form id=\"login\"></form></body></html>")


# --- business calls ---------------------------------------------------------------------------

def _business(endpoint: str, call: Callable[[ErpSim, dict[str, Any]], dict[str, Any]]) -> Endpoint:
    async def handler(request: Request, body: Any) -> Response:
        if not isinstance(body, dict):
            return _json({"success": False, "message": "请求格式错误"}, 400)
        return _json(call(_sim(request), body))

    return protocol(endpoint)(handler)


page_list = _business("/business/getBusinessPageList", ErpSim.page_list)
get_business = _business("/business/getBusiness", ErpSim.get)
update_business = _business("/business/updateBusiness", ErpSim.update)
get_datasource = _business("/business/getDatasource", ErpSim.datasource)


@protocol("/business/file")
async def download(request: Request, body: Any) -> Response:
    sim = _sim(request)
    path = request.path_params["path"]
    if request.path_params["app_name"] != sim.config.app_name or path not in sim.data.files:
        return _json({"success": False, "message": "文件不存在"}, 404)
    content, media_type = file_payload(path)
    return Response(content, 200, media_type=media_type)


# --- control API ------------------------------------------------------------------------------

def control(handler: Endpoint) -> Endpoint:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            return _json({"error": str(exc) or type(exc).__name__}, 400)

    return wrapped


async def _object(request: Request) -> dict[str, Any]:
    body = await _body(request)
    if not isinstance(body, dict):
        raise ValueError("body must be a JSON object")
    return body


@control
async def stats(request: Request) -> Response:
    return _json(_sim(request).stats_snapshot())


@control
async def stats_reset(request: Request) -> Response:
    sim = _sim(request)
    sim.reset_stats()
    return _json(sim.stats_snapshot())


@control
async def faults(request: Request) -> Response:
    sim = _sim(request)
    if request.method == "POST":
        sim.set_faults(**await _object(request))
    return _json(asdict(sim.faults))


@control
async def faults_reset(request: Request) -> Response:
    sim = _sim(request)
    sim.reset_faults()
    return _json(asdict(sim.faults))


@control
async def expire_sessions(request: Request) -> Response:
    _sim(request).expire_sessions()
    return _json({"expired": True})


@control
async def demo(request: Request) -> Response:
    return _json(_sim(request).demo_info())


@control
async def change_order(request: Request) -> Response:
    sim = _sim(request)
    order_id = request.path_params["order_id"]
    if order_id not in sim.forms[100001]:
        return _json({"error": f"no order {order_id}"}, 404)
    body = await _object(request)
    status = body.get("status")
    if status is not None and not isinstance(status, int):
        raise ValueError("status must be an integer")
    return _json(sim.change_order(order_id, status=status, action=body.get("action")))


def create_app(sim: ErpSim | None = None, config: ErpSimConfig | None = None) -> Starlette:
    app = Starlette(
        routes=[
            Route("/apps/service/login", login, methods=["POST"]),
            Route("/apps/user/open-app/{app_id}", open_app, methods=["GET"]),
            Route("/apps/app/{app_id}/index", app_index, methods=["GET"]),
            Route("/apps/login", login_page, methods=["GET"]),
            Route("/business/getBusinessPageList", page_list, methods=["POST"]),
            Route("/business/getBusiness", get_business, methods=["POST"]),
            Route("/business/updateBusiness", update_business, methods=["POST"]),
            Route("/business/getDatasource", get_datasource, methods=["POST"]),
            Route("/business/file/{app_name}/{path:path}", download, methods=["GET"]),
            Route("/__sim/stats", stats, methods=["GET"]),
            Route("/__sim/stats/reset", stats_reset, methods=["POST"]),
            Route("/__sim/faults", faults, methods=["GET", "POST"]),
            Route("/__sim/faults/reset", faults_reset, methods=["POST"]),
            Route("/__sim/sessions/expire", expire_sessions, methods=["POST"]),
            Route("/__sim/demo", demo, methods=["GET"]),
            Route("/__sim/orders/{order_id}", change_order, methods=["POST"]),
        ]
    )
    app.state.sim = sim or ErpSim(config)
    return app
