"""The ERP's state as the BFF sees it: probe, circuit, failover, freshness of the data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bff.erp.reader import ErpChannels
from bff.monitor.probe import ErpProbe, ErpState

BANNERS = {
    ErpState.UP: None,
    ErpState.UNKNOWN: None,
    ErpState.DEGRADED: "订单系统响应较慢，数据可能稍有延迟",
    ErpState.DOWN: "订单系统暂时无法访问，显示的可能是较早的数据",
}


@dataclass(frozen=True)
class ErpStatus:
    state: ErpState
    last_check: datetime | None
    banner: str | None  # for the purchasers' "ERP slow/down" banner; None when all is well
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    consecutive_failures: int
    circuit_state: str
    backup_configured: bool
    backup_in_use: bool
    last_good_data_at: datetime | None
    last_error: str | None  # the probe's exception class name: no URL, no secret


def erp_status(probe: ErpProbe, erp: ErpChannels) -> ErpStatus:
    p50, p95 = probe.latency_percentiles()
    state = probe.state
    if state is ErpState.UP and erp.circuit_open:  # the probe is older than what the breaker just saw
        state = ErpState.DEGRADED
    return ErpStatus(
        state=state,
        last_check=probe.last_check,
        banner=BANNERS[state],
        latency_p50_ms=p50,
        latency_p95_ms=p95,
        consecutive_failures=probe.consecutive_failures,
        circuit_state=erp.breaker.state.value,
        backup_configured=erp.backup_configured,
        backup_in_use=erp.backup_in_use,
        last_good_data_at=erp.last_good_at,
        last_error=probe.last_error,
    )


@dataclass(frozen=True)
class SystemStatusView:
    """What ``systemStatus`` answers: everyone logged in sees the banner part, administrators
    (MONITORING_READ, or the admin token) also the detail."""

    erp_state: ErpState
    last_check_at: datetime | None
    banner: str | None
    degraded: bool
    detail: ErpStatus | None


def view(status: ErpStatus, full: bool) -> SystemStatusView:
    return SystemStatusView(
        status.state, status.last_check, status.banner,
        status.state in (ErpState.DEGRADED, ErpState.DOWN), status if full else None,
    )
