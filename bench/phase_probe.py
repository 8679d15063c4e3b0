"""Time stamps of one request's phases inside a real ``bff serve`` (bench/phases.py runs it).

    python bench/phase_probe.py serve --port N     # as ``bff serve``, with the probe installed

Bench-only instrumentation, patched in from outside (nothing of it is in the BFF): for every
inbound request, on the machine's monotonic clock (the ERP simulator's timeline uses the same
clock, so the two line up): request received, GraphQL execution start/end, response start and
end; each ERP call (entered, HTTP request start/end, parsed), each Redis command or pipeline, each
SQL statement, each call log row queued. Spans started by tasks the request spawned carry its id
too (contextvars are copied into tasks), so work left running after the answer shows up as such.
``GET /__probe`` answers everything recorded since the last ``GET /__probe`` and forgets it.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections import defaultdict
from contextvars import ContextVar
from typing import Any

_request: ContextVar[int | None] = ContextVar("probe_request", default=None)
_ids = itertools.count(1)
_spans: dict[int, list[dict[str, Any]]] = defaultdict(list)
_loop_lag: list[tuple[float, float]] = []  # (when, how late a 10 ms tick was)


def _span(kind: str, start: float, end: float, **extra: Any) -> None:
    rid = _request.get()
    if rid is not None:
        _spans[rid].append({"kind": kind, "start": start, "end": end, **extra})


def _mark(kind: str, **extra: Any) -> None:
    now = time.monotonic()
    _span(kind, now, now, **extra)


def _wrap_async(owner: Any, name: str, kind: str, describe: Any = None) -> None:
    original = getattr(owner, name)

    async def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.monotonic()
        try:
            return await original(*args, **kwargs)
        finally:
            _span(kind, start, time.monotonic(), **(describe(*args, **kwargs) if describe else {}))

    setattr(owner, name, timed)


def install() -> None:
    import redis.asyncio.client as redis_client
    import strawberry
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    import bff.erp.transport as transport
    import bff.monitor.calllog as calllog
    import bff.web.app as web_app

    _wrap_async(transport.Transport, "call", "erp.call",
                lambda self, method, url, interpret, **kw: {"endpoint": kw.get("endpoint"), "form": kw.get("form_id")})
    _wrap_async(transport.Transport, "_shielded", "erp.http")
    _wrap_async(transport.ConnectionSlots, "acquire", "erp.slot")
    _wrap_async(redis_client.Redis, "execute_command", "redis", lambda self, *a, **kw: {"cmd": str(a[0])})
    _wrap_async(redis_client.Pipeline, "execute", "redis.pipeline",
                lambda self, *a, **kw: {"cmds": [str(c[0][0]) for c in self.command_stack]})
    _wrap_async(strawberry.Schema, "execute", "graphql.execute")

    original_record = calllog.CallLogWriter.record

    def record(self: Any, **kw: Any) -> None:
        _mark("calllog.record", direction=kw.get("direction"))
        original_record(self, **kw)

    calllog.CallLogWriter.record = record  # type: ignore[method-assign]

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        conn.info.setdefault("probe_t0", []).append(time.monotonic())

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        start = conn.info["probe_t0"].pop()
        _span("sql", start, time.monotonic(), sql=" ".join(statement.split())[:300])

    original_create_app = web_app.create_app

    def create_app(*args: Any, **kwargs: Any) -> Any:
        return Probe(original_create_app(*args, **kwargs))

    web_app.create_app = create_app


class Probe:
    """Outermost ASGI layer: a request id in a context variable, and the dump route."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.ticking = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.app, name)

    async def tick(self) -> None:
        import asyncio

        while True:
            before = time.monotonic()
            await asyncio.sleep(0.01)
            _loop_lag.append((before, time.monotonic() - before - 0.01))
            del _loop_lag[:-20000]

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and not self.ticking:
                import asyncio

                self.ticking = True
                self._ticker = asyncio.get_running_loop().create_task(self.tick())
            await self.app(scope, receive, send)
            return
        if scope["path"] == "/__probe":
            body = json.dumps({"requests": {str(k): v for k, v in _spans.items()}, "lag": _loop_lag}).encode()
            _spans.clear()
            _loop_lag.clear()
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/json")]})
            await send({"type": "http.response.body", "body": body})
            return
        rid = next(_ids)
        token = _request.set(rid)
        tag = dict(scope["headers"]).get(b"x-probe", b"").decode()
        _mark("received", path=scope["path"], tag=tag)

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                _mark("response.start", status=message["status"])
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body"):
                _mark("response.end")

        try:
            await self.app(scope, receive, timed_send)
        finally:
            _request.reset(token)


if __name__ == "__main__":
    install()
    from bff.cli import main

    main(sys.argv[1:])
