"""Admission control: each instance serves a bounded number of requests at once and lets a
bounded number wait, briefly; beyond that it answers ``503 OVERLOADED`` with ``Retry-After``
at once. A request admitted late would spend its ERP budget waiting on this process's CPU
and come back stale; refused at once, the client retries, or the balancer sends it elsewhere.

Admission runs after the body is in (``bff.web.edge``: a slow body holds no place) and before
the rate limits (a request shed here spends none of them). One actor holds at most its share
of the places (``BFF_MAX_INFLIGHT_PER_USER`` / ``_PER_IP``): one purchaser's burst cannot
crowd out another company's purchaser. A client that hangs up frees its place at once.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter
from dataclasses import dataclass

from starlette.types import ASGIApp, Receive, Scope, Send

from bff.core.errors import ErrorCode
from bff.core.security import client_key
from bff.web.edge import HANGUP, serve_until_hangup
from bff.web.gql import error_response

# Health, metrics and the admin page answer even when the instance is full: they say why.
EXEMPT_PATHS = ("/api/health/check", "/metrics", "/admin")


@dataclass(frozen=True)
class Shares:
    """Fair shares of the places (issue 19): what one actor may hold, admitted or waiting."""

    per_user: int  # per bearer token / platform user
    per_ip: int  # per client address (an IPv6 /64), for requests that name no user


def actor_of(scope: Scope) -> str:
    """Whom a request's place is counted against, before anyone has checked who it is: its
    bearer token or platform user (a forged one only fails faster), else its client address."""
    headers = dict(scope["headers"])
    user = headers.get(b"authorization") or headers.get(b"x-wx-openid")
    if user:
        return f"u:{user.decode('latin-1')}"
    client = scope.get("client")
    return "ip:" + client_key(str(client[0]) if client else "")


class Admission:
    """The counters and the gate; one per app (a test reads ``in_flight`` / ``rejected``)."""

    def __init__(self, max_inflight: int, max_queued: int, queue_wait_s: float, shares: Shares | None = None) -> None:
        self.max_inflight = max_inflight
        self.max_queued = max_queued
        self.queue_wait_s = queue_wait_s
        self.shares = shares or Shares(max_inflight + max_queued, max_inflight + max_queued)
        self._free = asyncio.Semaphore(max_inflight)
        self._held: Counter[str] = Counter()  # places admitted or waiting, per actor
        self.in_flight = 0
        self.queued = 0
        self.rejected = 0

    async def enter(self, actor: str = "") -> bool:
        """Take a place for ``actor`` (at once or after a short wait); False when refused:
        the instance is full, or the actor already holds its share."""
        share = self.shares.per_user if actor.startswith("u:") else self.shares.per_ip
        if self._held[actor] >= share:
            self.rejected += 1
            return False
        self._held[actor] += 1
        if not await self._enter():
            self._release(actor)
            return False
        return True

    def _release(self, actor: str) -> None:
        self._held[actor] -= 1
        if self._held[actor] <= 0:
            del self._held[actor]  # the counter holds only actors with a request in the house

    async def _enter(self) -> bool:
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

    def leave(self, actor: str = "") -> None:
        self.in_flight -= 1
        self._free.release()
        self._release(actor)


class AdmissionMiddleware:
    def __init__(self, app: ASGIApp, admission: Admission) -> None:
        self.app = app
        self.admission = admission
        self._retry_after = str(max(1, math.ceil(admission.queue_wait_s)))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"].startswith(EXEMPT_PATHS):
            await self.app(scope, receive, send)
            return
        actor = actor_of(scope)
        if not await self.admission.enter(actor):
            response = error_response(ErrorCode.OVERLOADED)
            response.headers["Retry-After"] = self._retry_after
            await response(scope, receive, send)
            return
        try:
            hangup = scope.get(HANGUP)
            if hangup is None:
                await self.app(scope, receive, send)
            else:  # a client that hangs up frees its place at once
                await serve_until_hangup(self.app, scope, receive, send, hangup)
        finally:
            self.admission.leave(actor)
