"""/api/erp/status and /api/metrics/performance: each runs one GraphQL operation.
The bearer is a session token (administrators see the detail) or BFF_ADMIN_TOKEN."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request

from bff.core.errors import BffError, ErrorCode
from bff.monitor.performance import WINDOWS_S
from bff.web.rest.shim import Shim

DETAIL = (
    "latencyP50Ms latencyP95Ms consecutiveFailures circuitState backupConfigured backupInUse lastGoodDataAt lastError"
)
STATUS = f"query RestErpStatus {{ systemStatus {{ erpState lastCheckAt banner degraded detail {{ {DETAIL} }} }} }}"
PERFORMANCE = """
query RestPerformance($window: PerformanceWindow!) {
  performance(window: $window) {
    windowS since count errors errorRate p95Ms
    operations { operation count errors errorRate p50Ms p95Ms p99Ms erpCallsPerRequest }
  }
}"""
WINDOW_NAMES = {"5m": "FIVE_MINUTES", "1h": "ONE_HOUR", "24h": "ONE_DAY"}


async def _no_variables(request: Request) -> dict[str, Any]:
    return {}


async def _window(request: Request) -> dict[str, Any]:
    window = request.query_params.get("window") or "1h"
    if window not in WINDOWS_S:
        raise BffError(ErrorCode.BAD_USER_INPUT, "统计窗口只能是 5m、1h 或 24h", field="window")
    return {"window": WINDOW_NAMES[window]}


def shims() -> list[Shim]:
    return [
        Shim("GET", "/api/erp/status", "ERP状态: probe state, circuit, failover (detail for administrators)", STATUS,
             _no_variables, {"status": "systemStatus"}, tag="monitoring"),
        Shim("GET", "/api/metrics/performance", "性能统计: per operation, from the shared call log (administrators)",
             PERFORMANCE, _window, {"performance": "performance"}, tag="monitoring",
             query_params={"window": {"schema": {"type": "string", "enum": list(WINDOWS_S), "default": "1h"}}}),
    ]
