"""performance() against a known synthetic load written by two "instances" into one call log."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

from bff.monitor.performance import performance
from bff.store import migrate
from bff.store.db import Database
from bff.store.tables import ApiCallLog


async def test_figures_match_a_known_load_from_two_instances_within_5_percent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/perf.sqlite3")
    await migrate.upgrade(db)
    rng = random.Random(7)
    now = datetime.now(UTC)
    latencies = list(range(1, 1001))  # 1..1000 ms: p50 500, p95 950, p99 990
    rng.shuffle(latencies)
    rows = []
    for i, ms in enumerate(latencies):
        rows.append(ApiCallLog(
            log_id=f"synthetic-{i}", api_endpoint="/graphql", request_method="POST", response_status=200,
            response_time_ms=ms, error_message="ERP_UNAVAILABLE" if i % 10 == 0 else None,  # 10 % errors
            called_at=now - timedelta(seconds=rng.uniform(1, 250)), direction="inbound", operation="SyntheticOp",
            response_data=json.dumps({"erpCalls": 3 if i % 2 else 1}),  # 2 per request on average
            trace_id=("a" if i % 2 else "b") * 32,  # two instances, one table
        ))
    rows.append(ApiCallLog(log_id="too-old", api_endpoint="/graphql", request_method="POST", response_status=200,
                           response_time_ms=99_999, called_at=now - timedelta(minutes=30), operation="SyntheticOp"))
    rows.append(ApiCallLog(log_id="erp-row", api_endpoint="erp:getBusiness", request_method="POST",
                           response_time_ms=5, called_at=now, direction="erp", operation="1"))
    async with db.session() as session:
        session.add_all(rows)
    report = await performance(db, 300)
    await db.dispose()
    (op,) = report.operations
    assert op.operation == "SyntheticOp" and op.count == 1000 == report.count
    assert abs(op.error_rate - 0.10) <= 0.005
    for got, want in ((op.p50_ms, 500), (op.p95_ms, 950), (op.p99_ms, 990), (op.erp_calls_per_request, 2.0)):
        assert got is not None and abs(got - want) / want <= 0.05, (got, want)


async def test_client_errors_do_not_count_toward_the_error_rate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Anonymous traffic answered UNAUTHENTICATED or NOT_FOUND cannot raise (or hold) the alert."""
    db = Database(f"sqlite+aiosqlite:///{tmp_path}/client.sqlite3")
    await migrate.upgrade(db)
    now = datetime.now(UTC)
    codes = ["UNAUTHENTICATED", "NOT_FOUND", "BAD_USER_INPUT", "RATE_LIMITED"] * 20 + ["INTERNAL", "ERP_UNAVAILABLE"]
    async with db.session() as session:
        session.add_all(
            ApiCallLog(log_id=f"c-{i}", api_endpoint="/graphql", request_method="POST", response_status=401 if i % 2 else 404,
                       response_time_ms=5, error_message=code, called_at=now, direction="inbound", operation="other")
            for i, code in enumerate(codes)
        )
    report = await performance(db, 300)
    await db.dispose()
    assert report.count == 82 and report.errors == 2
