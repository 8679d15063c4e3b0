"""Notifications outlast outages: WeChat down for an hour (moved on a clock, not slept) costs
retries, not messages; a message interrupted mid-send where WeChat cannot be asked is
``unknown``, not ``failed``."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr
from sqlmodel import col, select

from bff.demo import DemoStack
from bff.notify.outbox import FINAL_STATES, MessageState, NewMessage, to_row
from bff.services import Services
from bff.sim.wechat import create_app as create_wechat_app
from bff.store.tables import MessageLog
from bff.web.serving import start_server
from bff.wechat import client as wechat_client
from tests.monitor.helpers import custom_stack

DATA = {"thing1": "告警", "phrase2": "严重", "time3": "15:01", "thing4": "处理"}


@pytest_asyncio.fixture
async def stack() -> AsyncIterator[DemoStack]:
    async with custom_stack(service_key=SecretStr("svc-outage")) as demo:
        await demo.services.notify.outbox.stop()  # this test drives the outbox itself
        yield demo


@pytest_asyncio.fixture
async def http(stack: DemoStack) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=stack.url, timeout=10) as client:
        yield client


def _granted_user(stack: DemoStack, name: str) -> str:
    openid = str(stack.wechat_sim.wx_login(user=name)["openid"])
    stack.wechat_sim.users[openid].known = True
    stack.wechat_sim.grant(openid, "TPL_ADMIN_ALERT")
    return openid


async def test_wechat_down_for_an_hour_delays_messages_and_loses_none(stack: DemoStack, monkeypatch: pytest.MonkeyPatch) -> None:
    # The WeChat client still tries each send three times, without its real-time pauses between
    # them: the hour here is the outbox's, moved on its clock.
    monkeypatch.setattr(wechat_client, "BACKOFF_S", (0.0, 0.0))
    outbox = stack.services.notify.outbox
    now = [datetime.now(UTC)]
    stack.services.notify.set_clock(lambda: now[0])
    openid = _granted_user(stack, "outage-1")
    [msg_id] = await outbox.enqueue([NewMessage(openid=openid, template_id="TPL_ADMIN_ALERT", data=DATA, dedupe_key="outage:1")])

    await stack.wechat.stop()  # WeChat unreachable
    outage_ends = now[0] + timedelta(hours=1)
    while now[0] < outage_ends:
        assert await outbox.drain_once() == 1
        row = await outbox.get(msg_id)
        assert row is not None and row.msg_status == MessageState.QUEUED, (row and row.msg_status, row and row.error_detail)
        assert row.next_attempt_at is not None
        now[0] = row.next_attempt_at.replace(tzinfo=UTC)  # straight to the next retry
    assert row.attempts > 5  # the old limit gave up after ~30 s

    stack.wechat = await start_server(create_wechat_app(sim=stack.wechat_sim), port=stack.wechat.port)
    assert await outbox.drain_once() == 1
    row = await outbox.get(msg_id)
    assert row is not None and row.msg_status == MessageState.SENT
    assert [m["touser"] for m in stack.wechat_sim.messages] == [openid]


async def test_interrupted_send_without_a_delivery_log_is_unknown_not_failed(stack: DemoStack) -> None:
    """Services get a delivery log only from the demo (or ``bff serve --wechat-sim``): built from the
    settings alone, as ``bff serve`` builds them, they settle as against the real WeChat, even
    outside production and with the simulator at BFF_WX_BASE_URL."""
    services = Services.create(stack.settings)
    openid = _granted_user(stack, "outage-2")
    long_ago = datetime.now(UTC) - timedelta(hours=1)
    row = to_row(NewMessage(openid=openid, template_id="TPL_ADMIN_ALERT", data=DATA, dedupe_key="outage:2"), long_ago)
    row.msg_status, row.claimed_by, row.claimed_at, row.attempts = MessageState.SENDING, "dead-instance:1", long_ago, 1
    try:
        async with services.db.session() as s:
            s.add(row)
        assert await services.notify.outbox.settle_stale() == 1
        settled = await services.notify.outbox.get(row.msg_id)
    finally:
        await services.aclose()
    assert settled is not None and settled.msg_status == MessageState.UNKNOWN
    assert "outcome unknown" in (settled.error_detail or "")
    assert stack.wechat_sim.messages == []  # and never resent


async def test_wechat_down_shows_in_health_and_alerts_and_logs_once_per_episode(
    stack: DemoStack, http: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    """Failed sends are one log line when WeChat stops answering and one when it answers again (not
    three warnings a send); health says WeChat is down and how long the oldest message waited,
    and the monitor alerts once it waited longer than BFF_ALERT_OUTBOX_WAIT_S."""
    monkeypatch.setattr(wechat_client, "BACKOFF_S", (0.0, 0.0))
    outbox, monitor = stack.services.notify.outbox, stack.services.monitor
    now = [datetime.now(UTC)]
    stack.services.notify.set_clock(lambda: now[0])
    users = [_granted_user(stack, f"episode-{i}") for i in range(3)]
    await outbox.enqueue([NewMessage(openid=o, template_id="TPL_ADMIN_ALERT", data=DATA, dedupe_key=f"episode:{o}")
                          for o in users])
    health = (await http.get("/api/health/check")).json()
    assert health["notifications"]["wechat"] == "up" and health["notifications"]["status"] == "ok", health

    await stack.wechat.stop()
    caplog.clear()
    with caplog.at_level("DEBUG"):
        for _ in range(3):  # three rounds of tries, each moved to the messages' next attempt
            assert await outbox.drain_once() == 3
            now[0] = max(r.next_attempt_at.replace(tzinfo=UTC) for r in await _rows(stack) if r.next_attempt_at)
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert [w for w in warnings if "WeChat" in w or "wechat" in w] == [warnings[0]], warnings
    assert "WeChat not answering" in warnings[0]
    now[0] += timedelta(seconds=stack.settings.alert_outbox_wait_s + 10)  # the first try was that long ago
    health = (await http.get("/api/health/check")).json()
    notes = health["notifications"]
    assert notes["wechat"] == "down" and notes["failedSends"] == 9 and notes["status"] == "degraded", notes
    assert notes["oldestWaitS"] > stack.settings.alert_outbox_wait_s
    assert health["status"] == "degraded" and health["ready"] is True  # purchasers still read their orders
    await monitor.check_outbox()
    assert [(a.kind, a.level) for a in monitor.alerter.recent][-1:] == [("outbox", "late")]

    stack.wechat = await start_server(create_wechat_app(sim=stack.wechat_sim), port=stack.wechat.port)
    caplog.clear()
    with caplog.at_level("WARNING"):
        assert await outbox.drain_once() == 3
    news = [r.getMessage() for r in caplog.records if "WeChat" in r.getMessage()]
    assert len(news) == 1 and news[0].startswith("outbox: WeChat answering again after 9 failed send(s)"), news
    notes = (await http.get("/api/health/check")).json()["notifications"]
    assert notes["wechat"] == "up" and notes["status"] == "ok" and notes["oldestWaitS"] == 0, notes
    await monitor.check_outbox()
    assert [(a.kind, a.level) for a in monitor.alerter.recent][-1:] == [("outbox", "ok")]
    assert sorted(m["touser"] for m in stack.wechat_sim.messages) == sorted(users)


async def _rows(stack: DemoStack) -> list[MessageLog]:
    async with stack.services.db.session() as s:
        return list((await s.exec(select(MessageLog).where(col(MessageLog.dedupe_key).startswith("episode:")))).all())


def test_message_states_are_the_strings_the_table_holds() -> None:
    """``msg_status`` keeps the strings existing rows hold (no migration); every state is final or in flight."""
    assert [str(s) for s in MessageState] == ["queued", "sending", "sent", "failed", "skipped", "unknown"]
    assert MessageState("sending") is MessageState.SENDING and MessageState.SENT == "sent"
    assert set(MessageState) - {MessageState.QUEUED, MessageState.SENDING} == FINAL_STATES
