"""Probe states, alert gating (hysteresis, cool-down, several instances), webhook formats,
the breaker wired into the ERP client."""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from datetime import UTC, datetime

import httpx
import pytest
from aiocache import Cache

from bff.erp import SALES_ORDERS, ErpClient, ErpClientConfig, SalesOrderRecord
from bff.erp.breaker import BreakerState, CircuitBreaker
from bff.erp.errors import ErpCircuitOpen, ErpUnavailable
from bff.monitor.alerts import Alert, Alerter, AlertSender
from bff.monitor.calllog import mask_and_truncate
from bff.monitor.logs import MAX_TRACEBACK, JsonFormatter, shorten_traceback
from bff.monitor.probe import ErpProbe, ErpState, percentile


class FakeErp:
    def __init__(self) -> None:
        self.fail = False
        self.latency = 10.0

    async def probe(self) -> float:
        if self.fail:
            raise ErpUnavailable("down")
        return self.latency


async def test_probe_is_degraded_then_down_after_three_failures_and_up_after_one_success() -> None:
    erp = FakeErp()
    probe = ErpProbe(erp.probe, slow_ms=100, down_after=3)
    assert probe.state is ErpState.UNKNOWN
    assert (await probe.check()).state is ErpState.UP
    erp.fail = True
    states = [(await probe.check()).state for _ in range(3)]
    assert states == [ErpState.DEGRADED, ErpState.DEGRADED, ErpState.DOWN]
    assert probe.consecutive_failures == 3 and probe.last_error == "ErpUnavailable"
    erp.fail = False
    assert (await probe.check()).state is ErpState.UP and probe.consecutive_failures == 0
    erp.latency = 500
    assert (await probe.check()).state is ErpState.DEGRADED  # slow
    assert [s.latency_ms for s in probe.samples()] == [10.0, None, None, None, 10.0, 500.0]


def test_history_holds_24_hours_of_probes_compactly() -> None:
    probe = ErpProbe(FakeErp().probe, interval_s=30)
    assert probe.history.maxlen == 2881


def test_nearest_rank_percentiles() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 99)) == (50.0, 95.0, 99.0)
    assert percentile([], 50) is None


class Recorder(AlertSender):
    def __init__(self) -> None:
        super().__init__("http://sink.invalid/hook", "json", http=httpx.AsyncClient())
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> bool:
        self.sent.append(alert)
        return True


async def test_two_instances_sharing_the_cache_send_one_alert_per_state_change() -> None:
    cache = Cache(Cache.MEMORY)
    first, second = Recorder(), Recorder()
    a, b = Alerter(cache, first, cooldown_s=300), Alerter(cache, second, cooldown_s=300)
    for alerter in (a, b, a):  # every instance sees the ERP down, several times
        await alerter.observe("erp", "down", quiet_level="up", title="down", detail="")
    for alerter in (b, a, b):
        await alerter.observe("erp", "up", quiet_level="up", title="up", detail="")
    sent = [x.level for x in first.sent + second.sent]
    assert sorted(sent) == ["down", "up"]


async def test_flapping_is_held_back_by_the_cool_down_and_announced_after_it() -> None:
    cache = Cache(Cache.MEMORY)
    sink = Recorder()
    alerter = Alerter(cache, sink, cooldown_s=1)
    await alerter.observe("erp", "up", quiet_level="up", title="", detail="")  # healthy start: silent
    for level in ("down", "up", "down", "up", "down"):
        await alerter.observe("erp", level, quiet_level="up", title=level, detail="")
    assert [x.level for x in sink.sent] == ["down", "up"]  # the second down is within the cool-down
    await asyncio.sleep(1.1)
    await alerter.observe("erp", "down", quiet_level="up", title="down", detail="")  # still down afterwards
    assert [x.level for x in sink.sent] == ["down", "up", "down"]


def test_webhook_bodies_wecom_markdown_and_plain_json() -> None:
    alert = Alert("erp", "down", "ERP 不可用 (DOWN)", "连续 3 次探测失败", datetime(2025, 1, 1, tzinfo=UTC))
    wecom = AlertSender("http://x", "wecom").body(alert)
    assert wecom["msgtype"] == "markdown" and "ERP 不可用" in wecom["markdown"]["content"]
    plain = AlertSender("http://x", "json").body(alert)
    assert plain == {"kind": "erp", "level": "down", "title": alert.title, "detail": alert.detail, "at": alert.at.isoformat()}


def test_call_log_parameters_are_masked_and_truncated() -> None:
    text = '{"password": "hunter2", "token": "abc", "keyword": "' + "x" * 900 + '"}'
    masked = mask_and_truncate(text)
    assert masked is not None and "hunter2" not in masked and "abc" not in masked and len(masked) == 500


async def test_an_open_circuit_refuses_at_once_and_the_probe_still_goes_out() -> None:
    calls = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        raise httpx.ConnectError("down")

    breaker = CircuitBreaker(window=4, min_calls=2, failure_ratio=0.5, open_s=60)
    config = ErpClientConfig("http://erp.test", "http://erp.test", "1", "app", "acct", "pw", retries=1, deadline_s=1)
    client = ErpClient(config, http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)), breaker=breaker)
    with pytest.raises(ErpUnavailable):
        await client.list(SALES_ORDERS, model=SalesOrderRecord)
    assert breaker.state is BreakerState.OPEN
    before, started = calls, time.monotonic()
    with pytest.raises(ErpCircuitOpen):
        await client.list(SALES_ORDERS, model=SalesOrderRecord, page=2)
    # No call, and no wait for the deadline (a bound a busy machine's loop cannot miss; 0.05 s could).
    assert calls == before and time.monotonic() - started < config.deadline_s
    with pytest.raises(ErpUnavailable):
        await client.probe()
    assert calls > before  # the probe bypasses the breaker: it must see the real ERP
    await client.aclose()


def test_a_long_traceback_keeps_its_head_and_the_exception_line() -> None:
    """A deep stack (SQLAlchemy's) is cut in the middle: the exception's type and message and the
    innermost frames stay, as does where it started; secrets are masked all the same."""
    def deep(n: int) -> None:  # two functions in turn: Python folds only a frame repeated in a row
        if n == 0:
            raise RuntimeError('deadlock found when trying to get lock {"password": "hunter2"}')
        deeper(n - 1)

    def deeper(n: int) -> None:
        deep(n)

    try:
        deep(300)
    except RuntimeError:
        record = logging.LogRecord("bff.test", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    entry = json.loads(JsonFormatter().format(record))
    error = entry["error"]
    assert len(error) <= MAX_TRACEBACK
    assert error.startswith("Traceback (most recent call last):")
    assert "characters of frames left out" in error
    assert error.rstrip().endswith('RuntimeError: deadlock found when trying to get lock {"password": "***"}'), error[-200:]
    assert "raise RuntimeError" in error  # the innermost frame
    assert "hunter2" not in error
    assert shorten_traceback("short") == "short"
