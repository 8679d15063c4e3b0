"""HTTP face of the tracking simulator: 快递100's real-time query and subscription, pushes to the
subscriber's callback, and a ``/__sim`` control API (state, advance a parcel, phones, faults)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qsl

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bff.sim.http import control, json_response, read_object
from bff.sim.tracking.state import TrackingSim, TrackingSimConfig


def _sim(request: Request) -> TrackingSim:
    sim: TrackingSim = request.app.state.sim
    return sim


async def _form(request: Request) -> dict[str, str]:
    return dict(parse_qsl((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))


def _down() -> Response:
    return json_response({"result": False, "returnCode": "500", "message": "服务器错误"}, 500)


async def query(request: Request) -> Response:
    sim, form = _sim(request), await _form(request)
    if sim.down:
        return _down()
    return json_response(sim.query(form.get("customer", ""), form.get("param", ""), form.get("sign", "")))


async def subscribe(request: Request) -> Response:
    sim, form = _sim(request), await _form(request)
    if sim.down:
        return _down()
    answer = sim.subscribe(form.get("schema", ""), form.get("param", ""))
    number = next((r.get("number") for r in reversed(sim.requests) if r["kind"] == "subscribe"), None)
    if answer.get("result") and number:  # the first push soon after (快递100: within 15 minutes to 4 hours)
        task = asyncio.create_task(sim.push(str(number)))
        request.app.state.tasks.add(task)
        task.add_done_callback(request.app.state.tasks.discard)
    return json_response(answer)


@control
async def state(request: Request) -> Response:
    return json_response(_sim(request).snapshot())


@control
async def advance(request: Request) -> Response:
    body = await read_object(request)
    sim = _sim(request)
    parcel = await sim.advance(str(body["number"]), body.get("until"))
    return json_response({"number": parcel.number, "stage": parcel.stage, "state": parcel.script[parcel.stage][0]})


@control
async def phones(request: Request) -> Response:
    body = await read_object(request)
    _sim(request).phones.update({str(k): str(v) for k, v in body.items()})
    return json_response(_sim(request).phones)


@control
async def faults(request: Request) -> Response:
    body = await read_object(request)
    sim = _sim(request)
    sim.down = bool(body.get("down", False))
    for name in ("step_s", "repeat", "reorder"):
        if name in body:
            setattr(sim.config, name, type(getattr(sim.config, name))(body[name]))
    return json_response({"down": sim.down, "step_s": sim.config.step_s, "repeat": sim.config.repeat, "reorder": sim.config.reorder})


def create_app(sim: TrackingSim | None = None, config: TrackingSimConfig | None = None) -> Starlette:
    sim = sim or TrackingSim(config or TrackingSimConfig())

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with httpx.AsyncClient(timeout=5.0) as http:
            async def post(url: str, form: dict[str, str]) -> tuple[int, Any]:
                answer = await http.post(url, data=form)
                try:
                    return answer.status_code, answer.json()
                except ValueError:
                    return answer.status_code, None

            sim.poster = post

            async def ticker() -> None:
                while True:
                    await asyncio.sleep(max(0.2, min(1.0, sim.config.step_s / 4)) if sim.config.step_s > 0 else 0.5)
                    if sim.config.step_s > 0:
                        await sim.tick()

            task = asyncio.create_task(ticker())
            try:
                yield
            finally:
                task.cancel()
                for pending in list(app.state.tasks):
                    pending.cancel()
                sim.poster = None

    app = Starlette(
        routes=[
            Route("/poll/query.do", query, methods=["POST"]),
            Route("/poll", subscribe, methods=["POST"]),
            Route("/__sim/state", state, methods=["GET"]),
            Route("/__sim/advance", advance, methods=["POST"]),
            Route("/__sim/phones", phones, methods=["POST"]),
            Route("/__sim/faults", faults, methods=["POST"]),
        ],
        lifespan=lifespan,
    )
    app.state.sim = sim
    app.state.tasks = set()
    return app
