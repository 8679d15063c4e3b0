"""Run ASGI apps with uvicorn inside the current event loop (demo and tests).

``start_server(app, port=0)`` binds a loopback port (0 picks a free one) and returns
once the server accepts connections; ``await server.stop()`` shuts it down.
"""

from __future__ import annotations

import asyncio
import socket
from dataclasses import dataclass
from typing import Any

import uvicorn
from starlette.types import ASGIApp


@dataclass
class RunningServer:
    server: uvicorn.Server
    task: asyncio.Task[None]
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        self.server.should_exit = True
        await self.task


def _bind(host: str, port: int) -> socket.socket:
    # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then, and without
    # it small answers wait ~40 ms on the peer's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(512)
    sock.setblocking(False)
    return sock


async def start_server(
    app: ASGIApp, *, host: str = "127.0.0.1", port: int = 0, log_level: str = "warning", **options: Any
) -> RunningServer:
    """``options``: more of uvicorn's settings (the BFF's: ``bff.web.edge.uvicorn_options``).
    uvicorn's own X-Forwarded-For handling is off unless asked: the BFF's app does its own."""
    sock = _bind(host, port)
    # Server.serve() runs in the caller's loop; only Server.run() would set one up (uvicorn < 0.36
    # through Config.setup_event_loop, later through get_loop_factory), so nothing to disable.
    options.setdefault("proxy_headers", False)
    config = uvicorn.Config(
        app, log_level=log_level, access_log=False, lifespan="on", timeout_graceful_shutdown=2, **options
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()  # re-raise the start-up failure
        await asyncio.sleep(0.01)
    return RunningServer(server, task, host, sock.getsockname()[1])
