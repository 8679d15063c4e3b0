"""Alerts: the ERP going DOWN and recovering, error rate and latency over their thresholds.

Level-triggered with shared state, so one alert goes out per change of condition however
many BFF instances watch it and however the ERP flaps:

* ``alert:{kind}:last`` (shared cache) is the level last announced (e.g. ``down``/``up``);
  nothing is sent while the observed level equals it.
* Before sending, ``add`` (SET NX) of ``alert:{kind}:{level}:cooldown`` with a TTL of the
  cool-down: only one instance wins it, and a level cannot be announced twice within the
  cool-down. A condition still true after the cool-down is announced then.
* Hysteresis: DEGRADED is neither ``down`` nor ``up``; it changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

import httpx
from aiocache.base import BaseCache

log = logging.getLogger("bff.alerts")

Format = Literal["wecom", "json"]


@dataclass(frozen=True)
class Alert:
    kind: str  # erp | error_rate | latency
    level: str  # down/up, high/ok
    title: str
    detail: str
    at: datetime
    delivered: bool = True


class AlertSender:
    """Posts an alert to the webhook: WeCom group-robot markdown or plain JSON."""

    def __init__(self, url: str, fmt: Format = "wecom", http: httpx.AsyncClient | None = None) -> None:
        self.url = url
        self.fmt = fmt
        self._http = http or httpx.AsyncClient(timeout=httpx.Timeout(5.0, connect=2.0))
        self._owns_http = http is None

    def body(self, alert: Alert) -> dict[str, Any]:
        if self.fmt == "wecom":
            content = f"## 惠采 BFF 告警: {alert.title}\n> {alert.detail}\n> 时间: {alert.at.isoformat(timespec='seconds')}"
            return {"msgtype": "markdown", "markdown": {"content": content}}
        return {"kind": alert.kind, "level": alert.level, "title": alert.title, "detail": alert.detail,
                "at": alert.at.isoformat()}

    async def send(self, alert: Alert) -> bool:
        if not self.url:
            return False
        try:
            answer = await self._http.post(self.url, json=self.body(alert))
            answer.raise_for_status()
            return True
        except httpx.HTTPError as error:  # the URL may hold a robot key: never log it
            log.warning("alert webhook failed: %s", type(error).__name__, extra={"alertKind": alert.kind})
            return False

    async def aclose(self) -> None:
        if self._owns_http:
            await self._http.aclose()


class Alerter:
    def __init__(self, cache: BaseCache, sender: AlertSender, *, cooldown_s: float = 300.0, keep: int = 50) -> None:
        self._cache = cache
        self._sender = sender
        self.cooldown_s = cooldown_s
        self.recent: deque[Alert] = deque(maxlen=keep)  # what this instance sent, newest last
        self._listeners: list[Callable[[Alert], Awaitable[object]]] = []

    def add_listener(self, listener: Callable[[Alert], Awaitable[object]]) -> None:
        """Also tell ``listener`` of each alert this instance sends (e.g. administrators' messages)."""
        self._listeners.append(listener)

    async def observe(self, kind: str, level: str, *, quiet_level: str, title: str, detail: str) -> Alert | None:
        """Report that condition ``kind`` is now at ``level``; sends if that is news to everyone.
        ``quiet_level`` is the assumed level before anything was announced (no "recovered" at start)."""
        last = await self._cache.get(f"alert:{kind}:last")
        if (last or quiet_level) == level:
            return None
        if not await self._claim(f"alert:{kind}:{level}:cooldown"):
            return None
        await self._cache.set(f"alert:{kind}:last", level, ttl=7 * 24 * 3600)
        alert = Alert(kind, level, title, detail, datetime.now(UTC))
        delivered = await self._sender.send(alert)
        alert = Alert(kind, level, title, detail, alert.at, delivered)
        self.recent.append(alert)
        for listener in self._listeners:
            try:
                await listener(alert)
            except Exception:  # one broken channel must not stop the others
                log.exception("alert listener failed", extra={"alertKind": kind})
        log.warning("alert %s %s: %s", kind, level, title, extra={"alertKind": kind, "alertLevel": level})
        return alert

    async def _claim(self, key: str) -> bool:
        # aiocache's add is SET NX on Redis; the memory backend raises ValueError when taken.
        try:
            return bool(await self._cache.add(key, time.time(), ttl=max(1, int(self.cooldown_s))))
        except ValueError:
            return False
