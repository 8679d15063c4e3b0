"""Helpers of the edge tests (issue 19): a reverse proxy on another loopback address, clients
that call from chosen loopback addresses, raw sockets."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bff.demo import DemoStack
from bff.web.admission import Admission
from bff.web.serving import RunningServer, start_server

PROXY_ADDRESS = "127.0.0.2"  # what the BFF sees the proxy as (BFF_TRUSTED_PROXIES in the tests)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "content-length"}


@asynccontextmanager
async def reverse_proxy(upstream: str) -> AsyncIterator[RunningServer]:
    """A reverse proxy as nginx is usually set up (``proxy_add_x_forwarded_for``, TLS ended
    here): listens on 127.0.0.2, calls ``upstream`` from 127.0.0.2, appends the peer it saw to
    X-Forwarded-For (keeping what the caller sent), keeps the Host and says X-Forwarded-Proto: https."""
    transport = httpx.AsyncHTTPTransport(local_address=PROXY_ADDRESS)
    async with httpx.AsyncClient(base_url=upstream, transport=transport, timeout=30) as upstream_http:

        async def forward(request: Request) -> Response:
            headers = [(k, v) for k, v in request.headers.items() if k not in HOP_BY_HOP and k != "x-forwarded-for"]
            seen = request.client.host if request.client else ""
            given = request.headers.get("x-forwarded-for")
            headers.append(("x-forwarded-for", f"{given}, {seen}" if given else seen))
            headers.append(("x-forwarded-proto", "https"))
            answer = await upstream_http.request(
                request.method, request.url.path, params=request.query_params, headers=headers, content=await request.body(),
            )
            kept = {k: v for k, v in answer.headers.items() if k not in HOP_BY_HOP and k != "content-encoding"}
            return Response(answer.content, status_code=answer.status_code, headers=kept)

        methods = ["GET", "POST"]
        server = await start_server(Starlette(routes=[Route("/{path:path}", forward, methods=methods)]), host=PROXY_ADDRESS)
        try:
            yield server
        finally:
            await server.stop()


def client_from(address: str, base_url: str) -> httpx.AsyncClient:
    """An HTTP client whose connections come from ``address`` (any of 127.0.0.0/8)."""
    return httpx.AsyncClient(base_url=base_url, transport=httpx.AsyncHTTPTransport(local_address=address), timeout=30)


async def closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection."""
    return await reader.read()


def admission_of(stack: DemoStack) -> Admission:
    """The admission control of the stack's BFF app (the app under uvicorn's wrappers)."""
    app = stack.bff.server.config.app
    assert isinstance(app, Starlette)
    admission: Admission = app.state.admission
    return admission
