"""Helpers of the edge tests (issue 19): a reverse proxy on another loopback address, clients
that call from chosen loopback addresses, raw sockets."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bff.demo import DemoStack
from bff.web.admission import Admission
from bff.web.serving import RunningServer, start_server
from tests.support import free_port

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


def peak_rss(pid: int) -> int:
    """The process's peak resident memory so far (VmHWM), in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


@asynccontextmanager
async def bff_serve(settings: dict[str, str]) -> AsyncIterator[tuple[str, int]]:
    """``bff migrate`` then ``bff serve`` as processes of their own (so their memory can be
    measured), with ``settings`` as their only BFF_ variables; yields the url and the pid once
    liveness answers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BFF_")} | settings
    migrate = await asyncio.create_subprocess_exec(sys.executable, "-m", "bff.cli", "migrate", env=env,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert await asyncio.wait_for(migrate.wait(), 60) == 0
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = await asyncio.create_subprocess_exec(sys.executable, "-m", "bff.cli", "serve", "--port", str(port), env=env,
                                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 30
        async with httpx.AsyncClient(timeout=1) as http:
            while True:
                assert process.returncode is None and time.monotonic() < deadline, "bff serve did not come up"
                try:
                    if (await http.get(url + "/api/health/check", params={"probe": "live"})).status_code == 200:
                        break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)  # not listening yet: poll again until the deadline
        yield url, process.pid
    finally:
        process.terminate()
        await asyncio.wait_for(process.wait(), 30)
