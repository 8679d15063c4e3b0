"""A request id per inbound request, carried in a contextvar into logs and error bodies."""

from __future__ import annotations

import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bff.monitor.context import request_id_bound


class RequestIdMiddleware:
    """Takes a sane X-Request-ID from the caller or makes one; echoes it on the response."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        request_id = given if given.isalnum() and 8 <= len(given) <= 64 else secrets.token_hex(8)

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        with request_id_bound(request_id):
            await self.app(scope, receive, send_with_id)
