"""HTTP face of the ERP simulator: the Snowbeasts protocol plus a ``/__sim`` control API.

Protocol calls go through ``protocol()``: counted first, then the injected faults
(outage, fail-next, hang, latency, HTTP 500, truncated JSON) as a sick ERP or its
gateway would answer. The login reply and the answer to an expired session take the
shape of the current dialect (``bff.sim.erp.dialect``). Control-API misuse is HTTP 400
``{"error": ...}`` so tests fail loudly.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from bff.sim.erp.data import GENERIC_TYPE, LargeFile, file_payload, large_file_chunks, served_type
from bff.sim.erp.dialect import Dialect
from bff.sim.erp.state import BAD_LOGIN, SESSION_EXPIRED, ErpSim, ErpSimConfig, LoginResult
from bff.sim.http import Endpoint, control, read_object
from bff.sim.http import json_response as _json
from bff.sim.http import read_json as _body

Handler = Callable[[Request, Any], Awaitable[Response]]

ERROR_PAGE = "<html><head><title>500 Internal Server Error</title></head><body><h1>系统繁忙，请稍后再试</h1></body></html>"
BAD_GATEWAY = "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>"
UNAVAILABLE = "<html><head><title>503 Service Temporarily Unavailable</title></head><body><center><h1>503 Service Temporarily Unavailable</h1></center></body></html>"
LOGIN_PAGE = "<!DOCTYPE html><html><head><title>登录</title></head><body>{message}<form id=\"login\"></form></body></html>"
CONSOLE_PAGE = "<!DOCTYPE html><html><head><title>雪兽云</title></head><body><div id=\"console\"></div></body></html>"


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
            call = sim.record_call(endpoint, form_id)
            try:
                return await answer(sim, request, body)
            finally:
                call["end"] = time.monotonic()

        async def answer(sim: ErpSim, request: Request, body: Any) -> Response:
            faults = sim.faults
            if faults.applies_to(request.url.path):
                if faults.outage:
                    return HTMLResponse(UNAVAILABLE, 503)
                if sim.take_fail_next():
                    return HTMLResponse(BAD_GATEWAY, 502)
                if faults.hang_s > 0:
                    await sim.hang(faults.hang_s)
                await sim.wait_if_held()
                delay = sim.latency_s()
                if delay > 0:
                    await asyncio.sleep(delay)
                if sim.roll(faults.error_rate):
                    return HTMLResponse(ERROR_PAGE, 500)
            if business and not sim.authorised(request.cookies.get("JSESSIONID"), request.cookies.get("sid")):
                return expired(sim)
            if body is None:
                return _json({"success": False, "message": "请求格式错误"}, 400)
            response = await handler(request, body)
            if isinstance(response, LargeFileResponse):
                return response  # counts its own bytes as it sends them
            if faults.applies_to(request.url.path) and sim.roll(faults.malformed_rate):
                cut = bytes(response.body)[: max(1, len(response.body) // 2)]
                response = Response(cut, 200, media_type="application/json")
            if business:
                sim.record_bytes(len(response.body))
            return response

        return wrapped

    return wrap


def expired(sim: ErpSim) -> Response:
    """A business call without a live session, answered the current dialect's way."""
    shape = sim.dialect.expiry
    if shape == "redirect":
        return RedirectResponse("/apps/login", 302)
    if shape == "html":
        return HTMLResponse(LOGIN_PAGE.format(message=""))
    if shape == "success-false":
        sim.expired_answers += 1  # every other answer without errorCode: either may be seen
        plain = {k: v for k, v in SESSION_EXPIRED.items() if k != "errorCode"}
        return _json(SESSION_EXPIRED if sim.expired_answers % 2 else plain)
    return _json(SESSION_EXPIRED, 401)


# --- login: three steps, cookies only ---------------------------------------------------------

def login_reply(dialect: Dialect, result: LoginResult) -> Response:
    """The login answer's body in the current dialect; cookies are what tell success."""
    shape, ok = dialect.login_reply, result.sid is not None
    if shape == "json-other":
        return _json({"code": 0, "msg": "ok", "data": result.user} if ok else {"code": 1, "msg": BAD_LOGIN["message"]})
    if shape == "empty":
        return Response(b"", 200 if ok or result.known_account else 401)
    if shape == "html":
        return HTMLResponse(CONSOLE_PAGE if ok else LOGIN_PAGE.format(message=f"<p class=\"error\">{BAD_LOGIN['message']}</p>"))
    return _json({"success": True, "data": result.user} if ok else BAD_LOGIN)


@protocol("/apps/service/login", business=False)
async def login(request: Request, body: Any) -> Response:
    if not isinstance(body, dict):
        body = {}
    sim = _sim(request)
    result = sim.login(str(body.get("account", "")), str(body.get("password", "")))
    response = login_reply(sim.dialect, result)
    if result.sid:
        # The platform session is never checked again: business calls need the application one.
        response.set_cookie("JSESSIONID", secrets.token_hex(16).upper(), path="/", httponly=True)
        response.set_cookie("sid", result.sid, path="/", httponly=True)
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
    return HTMLResponse(LOGIN_PAGE.format(message=""))


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
    if request.path_params["app_name"] == sim.config.app_name and path in sim.large_files:
        return LargeFileResponse(sim, path, sim.large_files[path])
    if request.path_params["app_name"] != sim.config.app_name or path not in sim.data.files:
        return _json({"success": False, "message": "文件不存在"}, 404)
    content, real_type = file_payload(path, sim.data.files[path])
    return Response(content, 200, media_type=served_type(path, real_type))


class LargeFileResponse(Response):
    """A large file made chunk by chunk as it is sent (64 KiB in memory at a time), with or
    without Content-Length. Each download is recorded in ``sim.transfers``: bytes sent, and
    whether it ended complete or with the client gone (the BFF closing its connection early)."""

    def __init__(self, sim: ErpSim, path: str, file: LargeFile) -> None:
        self.sim = sim
        self.path = path
        self.file = file
        self.status_code = 200
        self.background = None
        self.init_headers({"Content-Length": str(file.size)} if file.with_length else {})
        self.raw_headers.append((b"content-type", GENERIC_TYPE.encode()))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        transfer: dict[str, Any] = {"path": self.path, "size": self.file.size, "sent": 0, "outcome": None}
        self.sim.transfers.append(transfer)
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()

        watcher = asyncio.ensure_future(watch())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            for chunk in large_file_chunks(self.path, self.file.size):
                if self.file.pace_s:
                    await asyncio.sleep(self.file.pace_s)
                if gone.is_set():
                    return
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
                transfer["sent"] += len(chunk)
                self.sim.record_bytes(len(chunk))
            if gone.is_set():
                return
            await send({"type": "http.response.body", "body": b"", "more_body": False})
            transfer["outcome"] = "complete"  # (the server's receive says "disconnect" from now on)
        finally:
            watcher.cancel()
            if transfer["outcome"] is None:
                transfer["outcome"] = "client gone"


# --- control API ------------------------------------------------------------------------------

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
        sim.set_faults(**await read_object(request))
    return _json(asdict(sim.faults))


@control
async def faults_reset(request: Request) -> Response:
    sim = _sim(request)
    sim.reset_faults()
    return _json(asdict(sim.faults))


@control
async def dialect(request: Request) -> Response:
    """GET: the dialect and the allowed values; POST: merge the given keys (400 names what is allowed)."""
    sim = _sim(request)
    if request.method == "POST":
        try:
            sim.set_dialect(**await read_object(request))
        except ValueError as exc:
            return _json({"error": str(exc), "allowed": sim.dialect.describe()["allowed"]}, 400)
    return _json(sim.dialect.describe())


@control
async def dialect_reset(request: Request) -> Response:
    sim = _sim(request)
    sim.reset_dialect()
    return _json(sim.dialect.describe())


@control
async def expire_sessions(request: Request) -> Response:
    _sim(request).expire_sessions()
    return _json({"expired": True})


@control
async def large_file(request: Request) -> Response:
    """``{"size": n, "length": true, "listed": true, "pace_ms": 0, "name": "大文件.pdf", "delivery": id?}``:
    a large attachment, made as it is downloaded, on that delivery (default: the demo customer's
    latest dispatched delivery with files), its size sent as Content-Length (``length``) and in the
    delivery's entry (``listed``); answers where it is. Tests and demos of the download limit."""
    body = await read_object(request)
    size = body.get("size")
    if not isinstance(size, int) or size < 1:
        raise ValueError("size must be a positive integer")
    return _json(_sim(request).add_large_file(
        size, with_length=bool(body.get("length", True)), listed=bool(body.get("listed", True)),
        pace_s=float(body.get("pace_ms", 0)) / 1000,
        name=str(body.get("name") or "大文件.pdf"), delivery_id=body.get("delivery"),
    ))


@control
async def transfers(request: Request) -> Response:
    return _json({"transfers": _sim(request).transfers})


@control
async def demo(request: Request) -> Response:
    return _json(_sim(request).demo_info())


@control
async def change_order(request: Request) -> Response:
    sim = _sim(request)
    order_id = request.path_params["order_id"]
    if order_id not in sim.forms[100001]:
        return _json({"error": f"no order {order_id}"}, 404)
    body = await read_object(request)
    status = body.get("status")
    if status is not None and not isinstance(status, int):
        raise ValueError("status must be an integer")
    return _json(sim.change_order(order_id, status=status, action=body.get("action")))


@control
async def history(request: Request) -> Response:
    """``{"customer": "<id>", "deliveries": n}``: n older dispatched deliveries (and their orders) for the customer."""
    body = await read_object(request)
    return _json(_sim(request).add_history(str(body["customer"]), body["deliveries"]))


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
            Route("/__sim/dialect", dialect, methods=["GET", "POST"]),
            Route("/__sim/dialect/reset", dialect_reset, methods=["POST"]),
            Route("/__sim/sessions/expire", expire_sessions, methods=["POST"]),
            Route("/__sim/demo", demo, methods=["GET"]),
            Route("/__sim/files/large", large_file, methods=["POST"]),
            Route("/__sim/files/transfers", transfers, methods=["GET"]),
            Route("/__sim/orders/{order_id}", change_order, methods=["POST"]),
            Route("/__sim/history", history, methods=["POST"]),
        ]
    )
    app.state.sim = sim or ErpSim(config)
    return app
