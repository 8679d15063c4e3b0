"""System status (the "ERP slow/down" banner; details for administrators) and performance."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Annotated

import strawberry

from bff.monitor import probe
from bff.monitor.performance import PerformanceReport
from bff.monitor.status import SystemStatusView
from resolvers import monitoring as resolve
from resolvers.context import Info

ErpState = Annotated[probe.ErpState, strawberry.enum(name="ErpState", description="The ERP as the probe sees it")]


@strawberry.enum(description="Window of the performance figures")
class PerformanceWindow(Enum):
    FIVE_MINUTES = "5m"
    ONE_HOUR = "1h"
    ONE_DAY = "24h"


@strawberry.type(description="Administrators only: probe, circuit breaker and failover")
class ErpStatusDetail:
    latency_p50_ms: float | None = strawberry.field(description="Probe latency over the last hour")
    latency_p95_ms: float | None
    consecutive_failures: int
    circuit_state: str = strawberry.field(description="CLOSED, HALF_OPEN or OPEN")
    backup_configured: bool
    backup_in_use: bool = strawberry.field(description="Reads go to the backup ERP channel (故障切换)")
    last_good_data_at: datetime | None = strawberry.field(description="Last good ERP answer on any channel")
    last_error: str | None = strawberry.field(description="What failed the last probe: the ERP client's exception class (ErpUnavailable, ErpDataInvalid, ...)")


@strawberry.type
class SystemStatus:
    erp_state: ErpState
    last_check_at: datetime | None
    banner: str | None = strawberry.field(description="Chinese text for the purchasers' banner; null when all is well")
    degraded: bool
    detail: ErpStatusDetail | None = strawberry.field(description="Null unless the caller is an administrator")


@strawberry.type
class OperationPerformance:
    operation: str
    count: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    erp_calls_per_request: float | None


@strawberry.type(description="From the shared call log: every BFF instance's requests")
class Performance:
    window_s: int
    since: datetime
    count: int
    errors: int
    error_rate: float
    p95_ms: float | None
    operations: list[OperationPerformance]


@strawberry.type
class MonitoringQuery:
    @strawberry.field(description="ERP state for any logged-in user; details for administrators", graphql_type=SystemStatus)
    async def system_status(self, info: Info) -> SystemStatusView:
        return await resolve.system_status(info)

    @strawberry.field(
        description="Administrators: per-operation count, error rate, latency percentiles, ERP calls", graphql_type=Performance
    )
    async def performance(self, info: Info, window: PerformanceWindow = PerformanceWindow.ONE_HOUR) -> PerformanceReport:
        return await resolve.performance_report(info, window.value)
