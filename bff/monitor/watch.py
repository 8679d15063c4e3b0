"""The monitoring loops of one BFF process: probe + ERP alerts, threshold alerts, call-log purge."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta

from aiocache.base import BaseCache

from bff.erp.reader import ErpReader
from bff.monitor.alerts import Alerter, AlertSender, Format
from bff.monitor.calllog import CallLogWriter
from bff.monitor.performance import performance
from bff.monitor.probe import ErpProbe, ErpState
from bff.store.db import Database, DatabaseUnavailable

log = logging.getLogger("bff.monitor")

THRESHOLD_WINDOW_S = 300
THRESHOLD_EVERY_S = 60.0


@dataclass(frozen=True)
class MonitorConfig:
    """What the monitor uses of the settings (``BFF_ERP_PROBE_*``, ``BFF_ALERT_*``, ``BFF_CALL_LOG_*``)."""

    probe_interval_s: float
    probe_slow_ms: float
    probe_down_after: int
    probe_timeout_s: float
    alert_webhook_url: str
    alert_webhook_format: Format
    alert_cooldown_s: float
    alert_min_requests: int
    alert_error_rate: float
    alert_latency_ms: float
    alert_outbox_wait_s: float
    call_log_retention_days: int
    call_log_purge_interval_s: float


class Monitor:
    def __init__(self, config: MonitorConfig, db: Database, cache: BaseCache, erp: ErpReader, call_log: CallLogWriter) -> None:
        self.config = config
        self._db = db
        self._call_log = call_log
        self.probe = ErpProbe(
            erp.probe,
            interval_s=config.probe_interval_s,
            slow_ms=config.probe_slow_ms,
            down_after=config.probe_down_after,
            timeout_s=config.probe_timeout_s,
        )
        self.sender = AlertSender(config.alert_webhook_url, config.alert_webhook_format)
        self.alerter = Alerter(cache, self.sender, cooldown_s=config.alert_cooldown_s)
        self._tasks: list[asyncio.Task[None]] = []
        # How long the oldest subscription message has waited (seconds): the notifications' own
        # figure, handed in by the composition root (monitoring does not know the outbox).
        self.outbox_wait: Callable[[], float] | None = None

    # --- one round of each ------------------------------------------------------------

    async def probe_once(self) -> ErpState:
        sample = await self.probe.check()
        await self.alert_erp(sample.state)
        return sample.state

    async def alert_erp(self, state: ErpState) -> None:
        level = {ErpState.DOWN: "down", ErpState.UP: "up"}.get(state)
        if level is None:  # DEGRADED/UNKNOWN: hysteresis, no news
            return
        if level == "down":
            title = "ERP 不可用 (DOWN)"
            detail = f"连续 {self.probe.consecutive_failures} 次探测失败 ({self.probe.last_error or '未知错误'})"
        else:
            title = "ERP 已恢复 (UP)"
            detail = "探测恢复正常"
        await self.alerter.observe("erp", level, quiet_level="up", title=title, detail=detail)

    async def check_outbox(self) -> None:
        if self.outbox_wait is None:
            return
        waited, limit = self.outbox_wait(), self.config.alert_outbox_wait_s
        late = waited > limit
        await self.alerter.observe(
            "outbox", "late" if late else "ok", quiet_level="ok",
            title="订阅消息积压" if late else "订阅消息发送恢复正常",
            detail=f"最早的待发消息已等待 {waited:.0f} 秒 (阈值 {limit:.0f} 秒)",
        )

    async def check_thresholds(self) -> None:
        await self.check_outbox()
        report = await performance(self._db, THRESHOLD_WINDOW_S)
        if report.count < self.config.alert_min_requests:
            return
        rate_high = report.error_rate > self.config.alert_error_rate
        await self.alerter.observe(
            "error_rate", "high" if rate_high else "ok", quiet_level="ok",
            title="错误率过高" if rate_high else "错误率恢复正常",
            detail=f"近5分钟 {report.count} 次请求, 错误率 {report.error_rate:.1%}",
        )
        slow = report.p95_ms is not None and report.p95_ms > self.config.alert_latency_ms
        await self.alerter.observe(
            "latency", "high" if slow else "ok", quiet_level="ok",
            title="响应过慢" if slow else "响应时间恢复正常",
            detail=f"近5分钟 p95 {report.p95_ms or 0:.0f} ms (阈值 {self.config.alert_latency_ms:.0f} ms)",
        )

    async def purge_once(self) -> int:
        removed = await self._call_log.purge(timedelta(days=self.config.call_log_retention_days))
        if removed:
            log.info("purged %d call log rows", removed)
        return removed

    # --- the loops ---------------------------------------------------------------------

    def start(self) -> None:
        if self._tasks:
            return
        self._tasks = [
            asyncio.create_task(self._every(self.config.probe_interval_s, self.probe_once), name="erp-probe"),
            asyncio.create_task(self._every(THRESHOLD_EVERY_S, self.check_thresholds), name="alert-thresholds"),
            asyncio.create_task(self._every(self.config.call_log_purge_interval_s, self.purge_once), name="call-log-purge"),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self.sender.aclose()

    @staticmethod
    async def _every(interval_s: float, job: Callable[[], Awaitable[object]]) -> None:
        while True:
            try:
                await job()
            except DatabaseUnavailable:  # logged once per outage by the database
                pass
            except Exception:  # a failed round is logged; the next one runs anyway
                log.exception("monitoring job failed")
            await asyncio.sleep(interval_s)
