"""api_call_logs and JSON log lines: every inbound call recorded, masked, asynchronously."""

from __future__ import annotations

import asyncio
import json
import logging
import warnings

import httpx
import pytest
from sqlmodel import col, select

from bff.demo import DemoStack
from bff.monitor.calllog import CallLogWriter, mask_and_truncate
from bff.monitor.context import request_id_bound
from bff.monitor.logs import JsonFormatter
from bff.store.tables import ApiCallLog
from tests.support import GraphQLClient, logged_rows, registered

# On MariaDB + Redis too: the call log is rows in the store.
pytestmark = pytest.mark.backend


async def test_inbound_calls_are_logged_with_operation_status_and_session(
    http: httpx.AsyncClient, gql: GraphQLClient, stack: DemoStack
) -> None:
    await gql(registered("Me"))  # a registered document: its name labels the row
    await http.get("/api/orders/search", params={"pageSize": 1}, headers={"Authorization": "Bearer nope"})
    rows = await logged_rows(stack, select(ApiCallLog).where(ApiCallLog.direction == "inbound"), until=lambda rows: any(
        r.api_endpoint == "/api/orders/search" and r.response_status == 401 for r in rows) and any(r.operation == "Me" for r in rows))
    probe = [r for r in rows if r.operation == "Me"]
    assert probe and probe[-1].api_endpoint == "/graphql" and probe[-1].response_status == 200
    assert probe[-1].session_id == stack.services.sessions.session_id_for(stack.token)
    refused = [r for r in rows if r.api_endpoint == "/api/orders/search" and r.response_status == 401]
    assert refused and refused[-1].error_message == "UNAUTHENTICATED"
    assert refused[-1].operation == "RestOrderSearch"


def test_masking_hides_secret_values_and_truncates() -> None:
    text = '{"erpUsername": "13900000000", "erpPassword": "hunter2", "token": "abc", "mobile": "13812345678"}'
    masked = mask_and_truncate(text) or ""
    for secret in ("hunter2", '"abc"', "13812345678"):
        assert secret not in masked
    assert "13900000000" in masked  # an account name is not a secret
    assert len(mask_and_truncate("x" * 5000) or "") == 500


def test_json_log_lines_carry_the_request_id_and_mask_secrets() -> None:
    with request_id_bound("req12345abcd"):
        record = logging.LogRecord("bff.test", logging.INFO, __file__, 1, 'login password="hunter2"', (), None)
        record.operation = "Home"
        line = json.loads(JsonFormatter().format(record))
    assert line["requestId"] == "req12345abcd" and line["operation"] == "Home"
    assert "hunter2" not in line["message"]


async def test_outbound_erp_calls_are_logged_too(gql: GraphQLClient, stack: DemoStack) -> None:
    payload = await gql("{ orders(pageSize: 2) { items { materials { id } } } }")
    assert payload["extensions"]["erp"]["calls"] >= 2
    await stack.services.call_log.flush()
    async with stack.services.db.session() as s:
        rows = (await s.exec(select(ApiCallLog).where(ApiCallLog.direction == "erp"))).all()
    endpoints = {r.api_endpoint for r in rows}
    assert "erp:getBusinessPageList" in endpoints
    assert any(r.operation == "100185" for r in rows)  # the order-lines form


async def test_a_flush_returns_only_once_the_batch_another_flush_is_writing_is_in(stack: DemoStack) -> None:
    """The background flush takes a batch from the queue, then writes it; a flush asked meanwhile
    (a test's, or stop()'s) found an empty queue and returned before those rows were in (a stress
    run read the call log too early that way)."""
    writer = CallLogWriter(stack.services.db)  # not started: the two flushes below are the only ones
    for n in range(3):
        writer.record(endpoint=f"/race-check/{n}", method="GET", status=200, latency_ms=1.0)
    background = asyncio.create_task(writer.flush())
    await asyncio.sleep(0)  # it has taken the batch and waits on the database
    assert writer._queue.empty() and not background.done()
    await writer.flush()
    assert background.done() and background.result() == 3  # waited for, not overtaken
    async with stack.services.db.session() as session:  # read at once: no polling
        rows = (await session.exec(select(ApiCallLog).where(col(ApiCallLog.api_endpoint).startswith("/race-check/")))).all()
    assert len(rows) == 3


async def test_a_flush_writes_its_batch_in_one_core_insert_without_warnings(stack: DemoStack) -> None:
    """Core on a connection: sqlmodel's Session.execute warned (DeprecationWarning) on every flush."""
    writer = CallLogWriter(stack.services.db)  # not started: this flush is the only one
    writer.record(endpoint="/flush-check", method="GET", status=204, latency_ms=1.0, operation="FlushCheck")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        written = await writer.flush()
    assert written == 1 and writer.stats.written == 1 and not writer.stats.dropped
    rows = await logged_rows(stack, select(ApiCallLog).where(ApiCallLog.api_endpoint == "/flush-check"), until=bool)
    assert [(r.response_status, r.operation) for r in rows] == [(204, "FlushCheck")]
