"""Admission control: each instance serves a bounded number of requests at once and lets a
bounded number wait, briefly; beyond that it answers ``503 OVERLOADED`` with ``Retry-After``
at once. A request admitted late would spend its ERP budget waiting on this process's CPU
and come back stale; refused at once, the client retries, or the balancer sends it elsewhere.
"""

from __future__ import annotations

import asyncio
import math

from starlette.types import ASGIApp, Receive, Scope, Send

from bff.core.errors import ErrorCode
from bff.web.gql import error_response

# Health, metrics and the admin page answer even when the instance is full: they say why.
EXEMPT_PATHS = ("/api/health/check", "/metrics", "/admin")


class Admission:
    """The counters and the gate; one per app (a test reads ``in_flight`` / ``rejected``)."""

    def __init__(self, max_inflight: int, max_queued: int, queue_wait_s: float) -> None:
        self.max_inflight = max_inflight
        self.max_queued = max_queued
        self.queue_wait_s = queue_wait_s
        self._free = asyncio.Semaphore(max_inflight)
        self.in_flight = 0
        self.queued = 0
        self.rejected = 0

    async def enter(self) -> bool:
        """Take a place (at once or after a short wait); False when refused."""
        if self._free.locked():
            if self.queued >= self.max_queued:
                self.rejected += 1
                return False
            self.queued += 1
            try:
                async with asyncio.timeout(self.queue_wait_s):
                    await self._free.acquire()
            except TimeoutError:
                self.rejected += 1
                return False
            finally:
                self.queued -= 1
        else:
            await self._free.acquire()  # free: returns at once
        self.in_flight += 1
        return True

    def leave(self) -> None:
        self.in_flight -= 1
        self._free.release()


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self.admission = admission
        self._retry_after = str(max(1, math.ceil(admission.queue_wait_s)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        if not await self.admission.enter():
            response = error_response(ErrorCode.OVERLOADED)
            response.headers["Retry-After"] = self._retry_after
            await response(scope, receive, send)
            return
        try:
            await self.app(scope, receive, send)
        finally:
            self.admission.leave()
