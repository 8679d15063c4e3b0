"""The embedded demo: both simulators and the BFF on loopback, migrated and seeded.

``start_demo_stack`` is also what the integration tests start, so the tests exercise
exactly what a newcomer runs.
"""

from __future__ import annotations

import asyncio
import secrets
import signal
from dataclasses import dataclass, field
from typing import Any

import httpx

from bff.core.config import Settings
from bff.notify.reconcile import SimulatorDeliveryLog
from bff.services import Services
from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp import create_app as create_erp_app
from bff.sim.tracking import TrackingSim, TrackingSimConfig
from bff.sim.tracking import create_app as create_tracking_app
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app
from bff.store import migrate
from bff.web.app import create_app
from bff.web.edge import uvicorn_options
from bff.web.rest.tracking_routes import CALLBACK_PATH
from bff.web.serving import RunningServer, start_server

DEMO_USER = "demo-purchaser"
DEMO_NICKNAME = "演示采购员"
# The helpers below are the tests' (and a demo user's) logins: many at once on a busy machine may
# wait their turn longer than httpx's 5 s default.
HELPER_TIMEOUT_S = 60.0


@dataclass
class DemoStack:
    settings: Settings
    services: Services
    erp_sim: ErpSim
    wechat_sim: WechatSim
    erp: RunningServer
    wechat: RunningServer
    bff: RunningServer
    tracking_sim: TrackingSim | None = None
    tracking: RunningServer | None = None
    demo: dict[str, Any] = field(default_factory=dict)
    token: str = ""

    @property
    def url(self) -> str:
        return self.bff.url

    async def wx_code(self, user: str) -> str:
        """What ``wx.login()`` gives the mini program of ``user``."""
        async with httpx.AsyncClient(base_url=self.wechat.url, timeout=HELPER_TIMEOUT_S) as client:
            answer = await client.post("/__sim/wx-login", json={"user": user})
            answer.raise_for_status()
            return str(answer.json()["code"])

    async def login(self, user: str, invite_code: str | None = None, nickname: str | None = None) -> str:
        """Log ``user`` in through the BFF (and bind with ``invite_code``); returns the bearer token."""
        code = await self.wx_code(user)
        async with httpx.AsyncClient(base_url=self.url, timeout=HELPER_TIMEOUT_S) as client:
            answer = await client.post("/api/auth/wx-login", json={"code": code, "userInfo": {"nickName": nickname}})
            answer.raise_for_status()
            token = str(answer.json()["token"])
            if invite_code:
                bound = await client.post(
                    "/api/auth/erp-bind", json={"inviteCode": invite_code}, headers={"Authorization": f"Bearer {token}"}
                )
                bound.raise_for_status()
        return token

    async def stop(self) -> None:
        await self.bff.stop()
        await self.services.aclose()
        # Both simulators at once: each stop waits out a tick of uvicorn's main loop (0.1 s).
        await asyncio.gather(self.wechat.stop(), self.erp.stop(), *([self.tracking.stop()] if self.tracking else []))


async def start_demo_stack(
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    erp_port: int = 0,
    wechat_port: int = 0,
    base_settings: Settings | None = None,
    erp_config: ErpSimConfig | None = None,
    wechat_config: WechatSimConfig | None = None,
    seed_user: bool = True,
    tracking_port: int = 0,
    tracking_config: TrackingSimConfig | None = None,
    with_tracking: bool = False,  # `bff demo` runs it; tests that need it ask
) -> DemoStack:
    erp_sim = ErpSim(erp_config or ErpSimConfig())
    wechat_sim = WechatSim(wechat_config or WechatSimConfig())
    erp = await start_server(create_erp_app(sim=erp_sim), host=host, port=erp_port)
    wechat = await start_server(create_wechat_app(sim=wechat_sim), host=host, port=wechat_port)
    tracking_sim = TrackingSim(tracking_config or TrackingSimConfig()) if with_tracking else None
    tracking = await start_server(create_tracking_app(sim=tracking_sim), host=host, port=tracking_port) if tracking_sim else None
    demo = erp_sim.demo_info()
    tracked = {  # the tracking simulator's account; pushes signed with a demo salt
        "tracking_url": tracking.url, "tracking_customer": tracking_sim.config.customer,
        "tracking_key": _secret(tracking_sim.config.key), "tracking_salt": _secret("demo-salt-" + "x7Kq2mP9vR4tW8yB3nF6"),
    } if tracking and tracking_sim else {}
    settings = (base_settings or Settings()).model_copy(
        update={
            **tracked,
            "erp_login_url": erp.url,
            "erp_base_url": erp.url,
            "erp_account": demo["service"]["account"],
            "erp_password": _secret(demo["service"]["password"]),
            "erp_admin_accounts": demo["admin"]["account"],
            "wx_base_url": wechat.url,
            "wx_appid": wechat_sim.config.appid,
            "wx_secret": _secret(wechat_sim.config.secret),
        }
    )
    services = Services.create(settings, delivery_log=SimulatorDeliveryLog(wechat.url))  # exact reconciliation
    await migrate.upgrade(services.db)
    bff = await start_server(create_app(settings, services), host=host, port=port, **uvicorn_options(settings))
    services.notify.parcels.callback_url = bff.url + CALLBACK_PATH  # known once the BFF listens (no TLS on loopback)
    stack = DemoStack(settings, services, erp_sim, wechat_sim, erp, wechat, bff, tracking_sim, tracking, demo)
    if seed_user:
        stack.token = await stack.login(DEMO_USER, demo["customer"]["invite_code"], DEMO_NICKNAME)
    return stack


def _secret(value: str) -> Any:
    from pydantic import SecretStr

    return SecretStr(value)


async def run_demo(host: str, port: int, erp_port: int, wechat_port: int, tracking_port: int = 8103) -> None:
    settings = Settings()
    if settings.database_url == Settings.model_fields["database_url"].default:
        settings = settings.model_copy(update={"database_url": "sqlite+aiosqlite:///./var/demo.sqlite3"})
    if not settings.admin_token.get_secret_value():  # a way into /admin for this run (printed below)
        settings = settings.model_copy(update={"admin_token": _secret(secrets.token_urlsafe(24))})
    stack = await start_demo_stack(
        host=host, port=port, erp_port=erp_port, wechat_port=wechat_port, base_settings=settings,
        tracking_port=tracking_port, with_tracking=True,
    )
    customer = stack.demo["customer"]
    print(f"ERP simulator     {stack.erp.url}", flush=True)
    print(f"WeChat simulator  {stack.wechat.url}", flush=True)
    if stack.tracking is not None:
        print(f"Tracking sim      {stack.tracking.url}", flush=True)
    print(f"GraphiQL          {stack.url}/graphql", flush=True)
    print(f"REST (OpenAPI)    {stack.url}/api/openapi.json", flush=True)
    print(f"Demo user         {DEMO_NICKNAME}", flush=True)
    print(f"Demo company      {customer['name']} (invite code {customer['invite_code']})", flush=True)
    print(f"Admin dashboard   {stack.url}/admin (paste ADMIN_TOKEN into its form)", flush=True)
    print(f"ADMIN_TOKEN={settings.admin_token.get_secret_value()}", flush=True)
    print("Send the token as: Authorization: Bearer <token>", flush=True)
    print(f"DEMO_TOKEN={stack.token}", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await stack.stop()
