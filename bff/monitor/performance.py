"""Per-operation figures from api_call_logs: the table every BFF instance writes, so the
answer covers all instances, not one process's memory.

An inbound row is one request: its ``operation`` (GraphQL operation name, or method and
route), latency, and whether it failed on the server's side (``INTERNAL``, ``ERP_*``, a 5xx).
Client errors (``UNAUTHENTICATED``, ``NOT_FOUND``, ``BAD_USER_INPUT``, …) are not failures:
anonymous traffic must not be able to raise, or hold, the error-rate alert. The ERP calls a request
cost ride in the row's ``response_data`` as ``{"erpCalls": n}`` (written by the access
middleware), so "ERP calls per operation" is exact per request, with no new column.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlmodel import col, select

from bff.core.clock import aware
from bff.core.errors import SERVER_FAILURES
from bff.monitor.probe import percentile
from bff.store.db import Database
from bff.store.tables import ApiCallLog

WINDOWS_S = {"5m": 300, "1h": 3600, "24h": 86400}


@dataclass
class OperationFigures:
    operation: str
    count: int
    errors: int
    error_rate: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    erp_calls_per_request: float | None  # None: no row of it carried the figure


@dataclass
class PerformanceReport:
    window_s: int
    since: datetime
    count: int
    errors: int
    error_rate: float
    p95_ms: float | None
    operations: list[OperationFigures] = field(default_factory=list)


@dataclass
class RecentError:
    at: datetime
    direction: str
    operation: str
    status: int | None
    error: str
    latency_ms: int | None
    trace_id: str | None


def _erp_calls(response_data: str | None) -> int | None:
    if not response_data:
        return None
    try:
        value = json.loads(response_data).get("erpCalls")
    except (ValueError, AttributeError):
        return None
    return int(value) if isinstance(value, int) else None


def _failed(status: int | None, error: str | None) -> bool:
    return error in SERVER_FAILURES or (status is not None and status >= 500)


async def performance(db: Database, window_s: int, now: datetime | None = None) -> PerformanceReport:
    since = (now or datetime.now(UTC)) - timedelta(seconds=window_s)
    query = select(  # type: ignore[call-overload, misc]  # sqlmodel's select() is typed for at most 4 columns
        ApiCallLog.operation, ApiCallLog.request_method, ApiCallLog.api_endpoint, ApiCallLog.response_time_ms,
        ApiCallLog.response_status, ApiCallLog.error_message, ApiCallLog.response_data,
    ).where(ApiCallLog.direction == "inbound", ApiCallLog.called_at >= since)
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    groups: dict[str, list[tuple[int, bool, int | None]]] = {}
    for operation, method, endpoint, latency, status, error, data in rows:
        name = operation or f"{method} {endpoint}"
        groups.setdefault(name, []).append((int(latency or 0), _failed(status, error), _erp_calls(data)))
    figures = [_figures(name, items) for name, items in groups.items()]
    figures.sort(key=lambda f: (-f.count, f.operation))
    total = sum(f.count for f in figures)
    errors = sum(f.errors for f in figures)
    all_latency = sorted(latency for items in groups.values() for latency, _, _ in items)
    return PerformanceReport(
        window_s, since, total, errors, round(errors / total, 4) if total else 0.0, percentile(all_latency, 95), figures
    )


def _figures(name: str, items: list[tuple[int, bool, int | None]]) -> OperationFigures:
    latency = sorted(float(ms) for ms, _, _ in items)
    errors = sum(1 for _, failed, _ in items if failed)
    calls = [c for _, _, c in items if c is not None]
    return OperationFigures(
        operation=name,
        count=len(items),
        errors=errors,
        error_rate=round(errors / len(items), 4),
        p50_ms=percentile(latency, 50),
        p95_ms=percentile(latency, 95),
        p99_ms=percentile(latency, 99),
        erp_calls_per_request=round(sum(calls) / len(calls), 2) if calls else None,
    )


async def recent_errors(db: Database, limit: int = 20) -> list[RecentError]:
    query = (
        select(ApiCallLog)
        .where(col(ApiCallLog.error_message).is_not(None))
        .order_by(col(ApiCallLog.called_at).desc())
        .limit(limit)
    )
    async with db.session() as session:
        rows = (await session.exec(query)).all()
    return [
        RecentError(
            aware(r.called_at), r.direction, r.operation or r.api_endpoint, r.response_status,
            r.error_message or "", r.response_time_ms, r.trace_id,
        )
        for r in rows
    ]
