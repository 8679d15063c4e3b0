"""Notifications outlast outages: WeChat down for an hour (moved on a clock, not slept) costs
retries, not messages; a message interrupted mid-send where WeChat cannot be asked is
``unknown``, not ``failed``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio
from pydantic import SecretStr

from bff.demo import DemoStack
from bff.notify.outbox import FINAL_STATES, MessageState, NewMessage, to_row
from bff.services import Services
from bff.sim.wechat import create_app as create_wechat_app
from bff.web.serving import start_server
from bff.wechat import client as wechat_client
from tests.monitor.helpers import custom_stack

DATA = {"thing1": "告警", "phrase2": "严重", "time3": "15:01", "thing4": "处理"}


@pytest_asyncio.fixture
async def stack() -> AsyncIterator[DemoStack]:
    async with custom_stack(service_key=SecretStr("svc-outage")) as demo:
        await demo.services.notify.outbox.stop()  # this test drives the outbox itself
        yield demo


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


def test_message_states_are_the_strings_the_table_holds() -> None:
    """``msg_status`` keeps the strings existing rows hold (no migration); every state is final or in flight."""
    assert [str(s) for s in MessageState] == ["queued", "sending", "sent", "failed", "skipped", "unknown"]
    assert MessageState("sending") is MessageState.SENDING and MessageState.SENT == "sent"
    assert set(MessageState) - {MessageState.QUEUED, MessageState.SENDING} == FINAL_STATES
