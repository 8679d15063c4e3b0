"""The outbox as monitoring sees it: depth and lag in the health check and in /metrics."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bff.demo import DemoStack
from bff.notify.outbox import NewMessage

# On MariaDB + Redis too: the backlog is counted from the outbox rows.
pytestmark = pytest.mark.backend


async def test_health_and_metrics_report_the_outbox_backlog(http: httpx.AsyncClient, stack: DemoStack) -> None:
    outbox = stack.services.notify.outbox
    await outbox.stop()  # hold the worker so the rows stay queued
    try:
        overdue = outbox.clock() - timedelta(seconds=90)
        ids = await outbox.enqueue([
            NewMessage(openid=f"o-backlog-{i}", template_id="TPL_ORDER_STATUS", data={}, dedupe_key=f"backlog-test-{i}",
                       not_before=overdue)
            for i in range(3)
        ])
        assert len(ids) == 3
        health = (await http.get("/api/health/check")).json()
        assert health["outbox"]["queued"] >= 3
        assert health["outbox"]["lagS"] >= 89
        metrics = (await http.get("/metrics")).text
        samples = {
            (s.name, s.labels.get("state", "")): s.value
            for family in text_string_to_metric_families(metrics) for s in family.samples
        }
        depth = [v for (name, state), v in samples.items() if name.startswith("bff_outbox_depth") and state == "queued"]
        lag = [v for (name, _), v in samples.items() if name == "bff_outbox_oldest_age_seconds"]
        assert depth and depth[0] >= 3
        assert lag and lag[0] >= 89
    finally:
        async with stack.services.db.session() as s:
            from sqlmodel import delete

            from bff.store.tables import MessageLog

            await s.exec(delete(MessageLog).where(MessageLog.dedupe_key.startswith("backlog-test-")))  # type: ignore[union-attr]
        outbox.start()
