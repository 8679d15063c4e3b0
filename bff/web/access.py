"""One call-log row and one JSON log line per inbound request (route or GraphQL operation)."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.erp.calls import erp_call_scope
from bff.monitor.calllog import CallLogWriter
from bff.monitor.context import collecting_facts
from bff.monitor.metrics import current_trace_id

log = logging.getLogger("bff.access")

# Probes and scrapers: logged and measured, but no call-log row (a database write per probe).
UNRECORDED_PATHS = ("/api/health/check", "/metrics")


# (operation or route, status, latency ms, error code): e.g. the request-latency metric.
RequestObserver = Callable[[str, int, float, str | None], None]

class AccessLogMiddleware:
    def __init__(self, app: ASGIApp, writer: CallLogWriter, observer: RequestObserver | None = None) -> None:
        self.app = app
        self.writer = writer
        self.observer = observer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_and_watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        with collecting_facts() as facts:
            try:
                with erp_call_scope() as erp:
                    await self.app(scope, receive, send_and_watch)
            finally:
                latency = (time.perf_counter() - started) * 1000
                route = scope.get("route")
                endpoint = getattr(route, "path", None) or "unmatched"  # a raw path would be an unbounded label
                trace_id = current_trace_id() or None
                # The ERP calls this request cost, for performance(): no extra column, no migration.
                if scope["path"] not in UNRECORDED_PATHS:
                    self.writer.record(
                        response_data=json.dumps({"erpCalls": erp.calls}),
                        trace_id=trace_id,
                        endpoint=endpoint,
                        method=scope["method"],
                        status=status,
                        latency_ms=latency,
                        operation=facts.operation,
                        session_id=facts.session_id,
                        error=facts.error_code,
                    )
                log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": endpoint,
                        "operation": facts.operation,
                        "status": status,
                        "latencyMs": round(latency, 1),
                        "errorCode": facts.error_code,
                        "erpCalls": erp.calls,
                    },
                )
                if self.observer is not None:
                    self.observer(facts.operation or f"{scope['method']} {endpoint}", status, latency, facts.error_code)
