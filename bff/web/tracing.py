"""One server span per inbound request; its trace id goes to logs, call logs and error bodies.

A caller's W3C ``traceparent`` is honoured, so the mini program's (or a gateway's) trace
continues here; the id is echoed in ``X-Trace-Id``.
"""

from __future__ import annotations

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.monitor.metrics import current_trace_id


class TracingMiddleware:
    def __init__(self, app: ASGIApp, tracer: trace.Tracer) -> None:
        self.app = app
        self.tracer = tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        carrier = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        parent = propagate.extract(carrier)
        name = f"{scope['method']} {scope['path']}"
        with self.tracer.start_as_current_span(name, context=parent, kind=SpanKind.SERVER) as span:
            trace_id = current_trace_id().encode()

            async def send_with_trace(message: Message) -> None:
                if message["type"] == "http.response.start":
                    status = int(message["status"])
                    span.set_attribute("http.response.status_code", status)
                    if status >= 500:
                        span.set_status(Status(StatusCode.ERROR))
                    message.setdefault("headers", []).append((b"x-trace-id", trace_id))
                await send(message)

            await self.app(scope, receive, send_with_trace)
