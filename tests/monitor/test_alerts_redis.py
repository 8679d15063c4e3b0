"""Two BFF instances on one Redis: one alert per change of condition between them."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import pytest

from bff.cache.caches import create_cache
from bff.monitor.alerts import Alert, Alerter, AlertSender
from tests.support import REDIS_URL, require_service


class RecordingSender(AlertSender):
    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9/unused")
        self.sent: list[Alert] = []

    async def send(self, alert: Alert) -> bool:
        self.sent.append(alert)
        return True


@pytest.mark.redis
async def test_two_instances_on_one_redis_send_each_change_once() -> None:
    require_service(REDIS_URL, 6379, "Redis")
    namespace = "alert-test-" + secrets.token_hex(4)
    caches = [create_cache(REDIS_URL, namespace=namespace) for _ in range(2)]
    senders = [RecordingSender(), RecordingSender()]
    alerters = [Alerter(cache, sender, cooldown_s=1) for cache, sender in zip(caches, senders, strict=True)]
    kwargs: dict[str, Any] = {"quiet_level": "up", "title": "ERP 接口不可用", "detail": "连续 3 次探测失败"}
    try:
        for level in ("down", "down", "up"):
            await asyncio.gather(*(a.observe("erp", level, **kwargs) for a in alerters for _ in range(3)))
            await asyncio.sleep(1.1)  # past the cool-down: only the shared "last level" holds repeats back
        levels = [alert.level for sender in senders for alert in sender.sent]
        assert sorted(levels) == ["down", "up"]  # one down, one recovery, between both instances
    finally:
        for cache in caches:
            await cache.clear(namespace=namespace)
            await cache.close()
