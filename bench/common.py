"""What the process benchmarks share: simulators in this process, a production-mode BFF
environment pointing at them, free ports, readiness, CPU time from /proc, trusted documents."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
from pydantic import SecretStr
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from bff.core.config import Settings
from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp import create_app as create_erp_app
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app
from bff.web.serving import RunningServer, start_server

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
MANIFEST = ROOT / "bff" / "web" / "persisted-documents.json"
MYSQL = "mysql+asyncmy://root@127.0.0.1:3306"  # the machine's MariaDB (root, no password)
REDIS = "redis://127.0.0.1:6379/15"  # flushed by the benchmarks that use it


def bench_settings(**overrides: Any) -> Settings:
    """An in-process demo stack's settings (bench/orders.py, bench/watcher.py): a throwaway
    SQLite database, the in-memory cache."""
    database = Path(tempfile.mkdtemp()) / "bench.sqlite3"
    return Settings(env="test", database_url=f"sqlite+aiosqlite:///{database}", secret_key=SecretStr("bench-secret"),
                    data_key=SecretStr("bench-data-key"), **overrides)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime + stime


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_listening(url: str, process: subprocess.Popen[bytes], tries: int = 300) -> None:
    async with httpx.AsyncClient() as http:
        for _ in range(tries):
            if process.poll() is not None:
                raise RuntimeError(f"{url}: server exited")
            try:
                await http.get(url)
                return
            except httpx.TransportError:
                await asyncio.sleep(0.1)
    raise RuntimeError(f"{url}: not listening")


def document_ids() -> dict[str, str]:
    """The mini program's trusted documents (production accepts nothing else): operation name -> id."""
    ids: dict[str, str] = {}
    for key, document in json.loads(MANIFEST.read_text()).items():
        head = document.strip()
        for word in ("query", "mutation"):
            if head.startswith(word + " "):
                ids[head[len(word) + 1:].split("(", 1)[0].split("{", 1)[0].strip()] = key
    return ids


async def fresh_database() -> tuple[str, str]:
    """A new MariaDB database: its name and URL."""
    name = "bench_" + secrets.token_hex(4)
    engine = create_async_engine(MYSQL + "/")
    async with engine.begin() as conn:
        await conn.execute(text(f"CREATE DATABASE {name} CHARACTER SET utf8mb4"))
    await engine.dispose()
    return name, f"{MYSQL}/{name}?charset=utf8mb4"


async def drop_database(name: str) -> None:
    engine = create_async_engine(MYSQL + "/")
    async with engine.begin() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
    await engine.dispose()



@dataclass
class Simulators:
    erp_sim: ErpSim
    wx_sim: WechatSim
    erp: RunningServer
    wechat: RunningServer

    @classmethod
    async def start(cls) -> Simulators:
        erp_sim = ErpSim(ErpSimConfig())
        wx_sim = WechatSim(WechatSimConfig(appid="wx-bench-appid", secret=secrets.token_hex(24)))
        return cls(erp_sim, wx_sim, await start_server(create_erp_app(sim=erp_sim)),
                   await start_server(create_wechat_app(sim=wx_sim)))

    async def stop(self) -> None:
        await self.erp.stop()
        await self.wechat.stop()

    def bff_env(self, database_url: str, redis_url: str = "") -> dict[str, str]:
        """A production-mode BFF on these simulators. The limits per user, IP and in all are
        lifted: a benchmark's few users would measure the limiter, not the BFF."""
        service = self.erp_sim.demo_info()["service"]
        return {
            **os.environ, "BFF_ENV": "production", "BFF_NOTIFY_ENABLED": "false", "BFF_CALL_LOG_ENABLED": "true",
            "BFF_DATABASE_URL": database_url, "BFF_REDIS_URL": redis_url,
            "BFF_SECRET_KEY": secrets.token_hex(32), "BFF_DATA_KEY": secrets.token_hex(32),
            "BFF_WX_BASE_URL": self.wechat.url, "BFF_WX_APPID": self.wx_sim.config.appid,
            "BFF_WX_SECRET": self.wx_sim.config.secret,
            "BFF_ERP_LOGIN_URL": self.erp.url, "BFF_ERP_BASE_URL": self.erp.url,
            "BFF_ERP_ACCOUNT": service["account"], "BFF_ERP_PASSWORD": service["password"],
            "BFF_PUBLIC_URL": "https://bench.invalid",
            "BFF_RATE_LIMIT_USER": "1000000/minute", "BFF_RATE_LIMIT_IP": "1000000/minute",
            "BFF_RATE_LIMIT_GLOBAL": "1000000/minute", "BFF_ERP_CALLS_PER_USER": "100000000/hour",
            "BFF_BIND_MAX_ATTEMPTS": "100000",  # per user: bench users bind once per run, runs share Redis
            "BFF_BIND_MAX_ATTEMPTS_PER_IP": "100000", "BFF_BIND_MAX_ATTEMPTS_GLOBAL": "100000",
        }

    async def bound_token(self, http: httpx.AsyncClient, user: str, *, other_company: bool = False) -> str:
        """A purchaser logged in through the WeChat simulator and bound by invite code."""
        demo = self.erp_sim.demo_info()
        invite = demo["other_customer" if other_company else "customer"]["invite_code"]
        code = (await http.post(self.wechat.url + "/__sim/wx-login", json={"user": user})).json()["code"]
        token = str((await http.post("/api/auth/wx-login", json={"code": code, "userInfo": {}})).json()["token"])
        bound = await http.post("/api/auth/erp-bind", json={"inviteCode": invite}, headers={"Authorization": f"Bearer {token}"})
        bound.raise_for_status()
        return token



@dataclass
class ProcessStack:
    """What a process benchmark runs its BFF processes against: the simulators (the ERP at a set
    latency), a fresh MariaDB database, a flushed Redis database, and the BFF environment for them."""

    sims: Simulators
    db_name: str
    redis: Any
    env: dict[str, str]

    @classmethod
    async def start(cls, latency_ms: float, redis_url: str) -> ProcessStack:
        import redis.asyncio as aioredis  # only the process benchmarks need it

        sims = await Simulators.start()
        sims.erp_sim.set_faults(latency_ms=latency_ms)
        db_name, db_url = await fresh_database()
        redis = aioredis.from_url(redis_url)
        await redis.flushdb()
        return cls(sims, db_name, redis, sims.bff_env(db_url, redis_url))

    async def tear_down(self, servers: list[subprocess.Popen[bytes]]) -> None:
        """The BFF processes, the simulators, the Redis client and the database, in that order."""
        for server in servers:
            server.terminate()
            server.wait(timeout=15)
        await self.sims.stop()
        await self.redis.aclose()
        await drop_database(self.db_name)
