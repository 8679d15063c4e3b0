"""GET /metrics: Prometheus text for whoever holds BFF_METRICS_TOKEN (or, without one, for a
loopback client only), rendered off the event loop and at most once per BFF_OPS_REFRESH_S
(issue 19: public, unlimited and rendered on the loop, 20 anonymous scrapers pushed a
purchaser's answer from 0.04 s to 15 s)."""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from bff.core.errors import ErrorCode
from bff.core.security import same_secret
from bff.web.gql import bearer_token, error_response

MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class MetricsEndpoint:
    def __init__(self, render: Callable[[], bytes], *, token: str, fresh_s: float) -> None:
        self._render = render
        self._token = token
        self._fresh_s = fresh_s
        self._lock = asyncio.Lock()
        self._text = b""
        self._at = float("-inf")
        self.renders = 0

    def allowed(self, request: Request) -> bool:
        if self._token:
            return same_secret(bearer_token(request), self._token)
        try:  # the client as BFF_TRUSTED_PROXIES resolves it: a forwarded request is not local
            return ipaddress.ip_address(request.client.host if request.client else "").is_loopback
        except ValueError:
            return False

    async def respond(self, request: Request) -> Response:
        if not self.allowed(request):
            return error_response(ErrorCode.FORBIDDEN, "需要监控令牌", status=403)
        async with self._lock:  # one render at a time; scrapers meanwhile share it
            if time.monotonic() - self._at >= self._fresh_s:
                self._text = await asyncio.to_thread(self._render)
                self.renders += 1
                self._at = time.monotonic()
            text = self._text
        return Response(text, media_type=MEDIA_TYPE)
