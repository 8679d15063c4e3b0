"""SIGKILL with messages queued and in flight: after a restart every message reaches WeChat
exactly once, and each one's state says so (those in flight at the kill are reconciled
against the simulator's delivery log: delivered -> sent, not delivered -> sent again), and
promptly: the dead process's heartbeat ends, so nobody waits for BFF_OUTBOX_STALE_S."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from bff.core.clock import utc_now
from bff.notify.outbox import FINAL_STATES, NewMessage, to_row
from bff.sim.erp import ErpSim, ErpSimConfig
from bff.sim.erp import create_app as create_erp_app
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app
from bff.store import migrate
from bff.store.db import Database
from bff.store.tables import MessageLog
from bff.web.serving import start_server
from tests.support import free_port

ROOT = Path(__file__).resolve().parents[2]
COUNT = 60
DATA = {"thing1": "告警", "phrase2": "严重", "time3": "15:01", "thing4": "处理"}


def spawn(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "bff.cli", "serve", "--port", str(port), "--wechat-sim"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def final_rows(db: Database) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(MessageLog).where(
            MessageLog.msg_status.in_(FINAL_STATES)))).one())  # type: ignore[attr-defined]


@pytest.mark.early
async def test_sigkill_with_queued_messages_then_restart_sends_each_once() -> None:
    wechat_sim = WechatSim(WechatSimConfig())
    wechat_sim.set_faults(latency_ms=150)  # slow WeChat: most messages are still queued at the kill
    erp_sim = ErpSim(ErpSimConfig())
    wechat = await start_server(create_wechat_app(sim=wechat_sim), port=0)
    erp = await start_server(create_erp_app(sim=erp_sim), port=0)
    db_url = "sqlite+aiosqlite:///" + os.path.join(tempfile.mkdtemp(), "crash.sqlite3")
    db = Database(db_url)
    process = None
    try:
        await migrate.upgrade(db)
        users = []
        for i in range(COUNT):
            openid = wechat_sim.wx_login(user=f"crash-{i}")["openid"]
            wechat_sim.users[openid].known = True
            wechat_sim.grant(openid, "TPL_ADMIN_ALERT")
            users.append(openid)
        async with db.session() as s:
            s.add_all([to_row(NewMessage(openid=o, template_id="TPL_ADMIN_ALERT", data=DATA, dedupe_key=f"crash:{o}"),
                              utc_now()) for o in users])
        demo = erp_sim.demo_info()
        env = {**os.environ, "BFF_ENV": "test", "BFF_DATABASE_URL": db_url, "BFF_REDIS_URL": "",
               "BFF_WX_BASE_URL": wechat.url, "BFF_WX_SECRET": wechat_sim.config.secret,
               "BFF_ERP_LOGIN_URL": erp.url, "BFF_ERP_BASE_URL": erp.url,
               "BFF_ERP_ACCOUNT": demo["service"]["account"], "BFF_ERP_PASSWORD": demo["service"]["password"],
               "BFF_OUTBOX_CONCURRENCY": "4", "BFF_WATCH_INTERVAL_S": "3600",
               # A live claimer's rows wait this long: the killed one's are settled because its
               # heartbeat ends, within seconds of the restart (it took 64 s with the old 60 s default).
               "BFF_OUTBOX_STALE_S": "3600"}
        process = spawn(env, free_port())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 20
        while len(wechat_sim.messages) < 8 and loop.time() < deadline:
            await asyncio.sleep(0.02)
        process.send_signal(signal.SIGKILL)
        process.wait()
        delivered_at_kill = len(wechat_sim.messages)
        assert 0 < delivered_at_kill < COUNT, delivered_at_kill  # killed mid-drain, messages still queued
        async with db.session() as s:
            states = dict((await s.exec(select(MessageLog.openid, MessageLog.msg_status))).all())
        in_flight = {o for o, state in states.items() if state == "sending"}
        queued = {o for o, state in states.items() if state == "queued"}
        assert queued and len(in_flight) <= 4  # no more claimed than sent at once

        process = spawn(env, free_port())
        deadline = loop.time() + 30
        while await final_rows(db) < COUNT and loop.time() < deadline:
            await asyncio.sleep(0.1)
        process.send_signal(signal.SIGTERM)  # stopped, it can send nothing more: the count below is final
        await asyncio.to_thread(process.wait, 30)
        per_user = Counter(m["touser"] for m in wechat_sim.messages)
        assert queued <= set(per_user)  # every message queued at the kill is sent after the restart
        assert set(per_user.values()) == {1}  # and none twice, in flight at the kill or not
        async with db.session() as s:
            after = {r.openid: r for r in (await s.exec(select(MessageLog))).all()}
        assert set(per_user) == set(users)  # in flight at the kill or not, every user got it once
        for openid in in_flight:  # delivered before the kill or resent after: recorded as sent
            assert after[openid].msg_status == "sent", (after[openid].msg_status, after[openid].error_detail)
            assert after[openid].wx_msgid
        assert set(per_user) | in_flight == set(users)
    finally:
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)
        await db.dispose()
        await wechat.stop()
        await erp.stop()
