"""Outbox drain rate: 1,000 queued messages against the WeChat simulator on loopback.

    python bench/outbox.py [--messages 1000] [--latency-ms 0] [--database-url URL]

Prints messages per second from the worker's start until every row is final.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time

from pydantic import SecretStr
from sqlalchemy import func
from sqlmodel import select

from bff.core.config import Settings
from bff.notify.outbox import FINAL_STATES, NewMessage
from bff.services import Services
from bff.sim.wechat import WechatSim, WechatSimConfig
from bff.sim.wechat import create_app as create_wechat_app
from bff.store import migrate
from bff.store.tables import MessageLog
from bff.web.serving import start_server

DATA = {"character_string1": "SO-2026-0001", "thing2": "数控车床主轴等3项", "phrase3": "进行中",
        "time4": "2026年11月26日 15:01", "thing5": "未开始→进行中"}


async def main(count: int, latency_ms: float, database_url: str) -> None:
    sim = WechatSim(WechatSimConfig())
    sim.set_faults(latency_ms=latency_ms)
    wechat = await start_server(create_wechat_app(sim=sim), port=0)
    settings = Settings(env="test", database_url=database_url, wx_base_url=wechat.url,
                        wx_secret=SecretStr(sim.config.secret), notify_enabled=False, call_log_enabled=False)
    services = Services.create(settings)
    await migrate.upgrade(services.db)
    outbox = services.notify.outbox
    messages = []
    for i in range(count):
        openid = sim.wx_login(user=f"bench-{i}")["openid"]
        sim.users[openid].known = True
        sim.grant(openid, "TPL_ORDER_STATUS")
        messages.append(NewMessage(openid=openid, template_id="TPL_ORDER_STATUS", data=DATA, dedupe_key=f"bench:{i}:{time.time()}",
                                   page="pages/order/detail?id=1&msg=x"))
    await outbox.enqueue(messages)
    started = time.perf_counter()
    outbox.start()
    while True:
        async with services.db.session() as s:
            done = (await s.exec(select(func.count()).select_from(MessageLog)
                                 .where(MessageLog.msg_status.in_(FINAL_STATES)))).one()  # type: ignore[attr-defined]
        if done >= count:
            break
        await asyncio.sleep(0.02)
    elapsed = time.perf_counter() - started
    await outbox.stop()
    print(f"{count} messages, {len(sim.messages)} delivered, sim latency {latency_ms} ms, "
          f"concurrency {settings.outbox_concurrency}, {settings.database_url.split(':')[0]}: "
          f"{elapsed:.2f} s, {count / elapsed:.0f} messages/s")
    await services.aclose()
    await wechat.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1000)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--database-url", default="sqlite+aiosqlite:///" + os.path.join(tempfile.mkdtemp(), "bench.sqlite3"))
    args = parser.parse_args()
    asyncio.run(main(args.messages, args.latency_ms, args.database_url))
