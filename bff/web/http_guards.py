"""HTTP-level guards: rate limits, the ERP budget, and a JSON answer for anything unexpected
(the body's size and time: ``bff.web.edge``)."""

from __future__ import annotations

import asyncio
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.cache.ratelimit import RateLimits
from bff.core.errors import BffError, ErrorCode
from bff.core.security import client_key
from bff.erp.transport import request_budget
from bff.web.errors import public_error
from bff.web.gql import error_response, refusal

log = logging.getLogger("bff.http")


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = {404: ErrorCode.NOT_FOUND, 401: ErrorCode.UNAUTHENTICATED, 403: ErrorCode.FORBIDDEN}.get(
        exc.status_code, ErrorCode.BAD_USER_INPUT
    )
    return error_response(code, status=exc.status_code)


async def internal_error(request: Request, exc: Exception) -> Response:
    public = public_error(exc)  # a known failure (the database out of reach...): its code, no traceback
    if public is not None:
        return error_response(public.code, public.message, **public.details)
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(ErrorCode.INTERNAL)


class ErpBudgetMiddleware:
    """One ERP time budget per inbound request, so an answer (stale or an error) comes in time
    even when the request reads the ERP several times in a row."""

    def __init__(self, app: ASGIApp, seconds: float) -> None:
        self.app = app
        self.seconds = seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        with request_budget(self.seconds):
            await self.app(scope, receive, send)


# --- issue 10: requests per client IP and globally ------------------------------------------

UNLIMITED_PATHS = ("/api/health/check", "/metrics")  # probes of the platform and of Prometheus


class RequestRateLimitMiddleware:
    """Every request counts against its client IP's and the global limit (shared through Redis);
    over either, 429 RATE_LIMITED with ``Retry-After``: a GraphQL-shaped body on /graphql, the
    JSON error shape elsewhere. Per-user limits are counted once the user is known (the context)."""

    def __init__(self, app: ASGIApp, limits: RateLimits) -> None:
        self.app = app
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in UNLIMITED_PATHS:
            await self.app(scope, receive, send)
            return
        client = scope.get("client")
        try:
            await self.limits.request(client_key(client[0] if client else ""))
        except BffError as error:
            await refusal(scope["path"], error)(scope, receive, send)
            return
        await self.app(scope, receive, send)


class StrayCancellationMiddleware:
    """A CancelledError that is not the request's own cancellation (a cancelled shared read, a
    dataloader batch cancelled under load) becomes a JSON 503 instead of uvicorn's text/plain
    500. The request's own cancellation (client gone, shutdown) propagates as it must."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except asyncio.CancelledError:
            task = asyncio.current_task()
            if started or (task is not None and task.cancelling()):
                raise
            log.warning("request interrupted by a stray cancellation on %s", scope.get("path"))
            await refusal(scope.get("path", ""), BffError(ErrorCode.INTERNAL), status=503)(scope, receive, send)
