"""Helpers of the monitoring tests: an administrator's token, a webhook sink, a custom stack."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bff.demo import DemoStack, start_demo_stack
from bff.web.serving import RunningServer, start_server
from tests.support import GraphQLClient, make_settings, unique_user

BIND = """mutation($input: BindCompanyInput!) { bindCompany(input: $input) { bindStatus permissions } }"""


async def admin_token(stack: DemoStack) -> str:
    """A fresh WeChat user bound with the ERP administrator account (role ADMIN)."""
    token = await stack.login(unique_user("admin"))
    admin = stack.demo["admin"]
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as http:
        answer = await GraphQLClient(http, token)(
            BIND, {"input": {"erpAccount": {"username": admin["account"], "password": admin["password"]}}}
        )
    assert "MONITORING_READ" in answer["data"]["bindCompany"]["permissions"], answer
    return token


class WebhookSink:
    """A tiny webhook receiver on loopback: keeps every JSON body posted to it."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.server: RunningServer | None = None

    async def hook(self, request: Request) -> JSONResponse:
        self.received.append(await request.json())
        return JSONResponse({"errcode": 0, "errmsg": "ok"})

    async def start(self) -> str:
        self.server = await start_server(Starlette(routes=[Route("/hook", self.hook, methods=["POST"])]))
        return self.server.url + "/hook"

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()


@asynccontextmanager
async def custom_stack(**overrides: Any) -> AsyncIterator[DemoStack]:
    """A demo stack of its own (SQLite, memory cache) with these settings."""
    settings = make_settings(**overrides)
    stack = await start_demo_stack(base_settings=settings)
    try:
        yield stack
    finally:
        await stack.stop()
        path = settings.database_url.split("///", 1)[1]
        for suffix in ("", "-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
