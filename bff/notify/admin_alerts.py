"""Alerts to the wholesaler's administrators as subscription messages, through the outbox.

Called by the alerter of ``bff.monitor`` on the one instance that won the alert, so each
change of condition reaches each administrator once. An administrator without a grant
for the alert template gets a 'skipped' row (the skip is logged, nothing is sent).
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import select

from bff.core.clock import Clock
from bff.notify.grants import Grants
from bff.notify.outbox import WHOLESALER, MessageState, NewMessage, Outbox
from bff.notify.render import render
from bff.notify.templates import EventKind, Templates
from bff.store.db import Database
from bff.store.tables import ErpBinding

LEVEL_PHRASES = {"down": "故障", "up": "已恢复", "high": "异常", "ok": "已恢复"}
MONITOR_PAGE = "pages/monitor/monitor"


class AlertLike(Protocol):  # read-only: the monitor's alerts are frozen
    @property
    def kind(self) -> str: ...
    @property
    def level(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def detail(self) -> str: ...


class AdminAlerts:
    def __init__(self, db: Database, templates: Templates, grants: Grants, outbox: Outbox, clock: Clock) -> None:
        self._db = db
        self._templates = templates
        self._grants = grants
        self._outbox = outbox
        self.clock = clock

    async def administrators(self) -> list[str]:
        async with self._db.session() as s:
            rows = await s.exec(
                select(ErpBinding.openid).where(ErpBinding.role == "admin", ErpBinding.is_valid == True)  # noqa: E712
            )
            return sorted(set(rows.all()))

    async def send(self, alert: AlertLike) -> list[str]:
        """Queues one message per administrator; returns the ids of those queued to send."""
        spec = self._templates.for_kind(EventKind.ADMIN_ALERT)
        admins = await self.administrators()
        if spec is None or not admins:
            return []
        holders = await self._grants.holders(admins, spec.template_id)
        now = self.clock()
        facts = {"content": alert.title, "level": LEVEL_PHRASES.get(alert.level, "告警"), "advice": alert.detail}
        messages = []
        for openid in admins:
            message = NewMessage(
                openid=openid, template_id=spec.template_id, data=render(spec, facts, now),
                dedupe_key=f"alert:{alert.kind}:{alert.level}:{now.isoformat()}:{openid}",
                kind=EventKind.ADMIN_ALERT.value, page=MONITOR_PAGE, title=spec.title, summary=alert.title,
                company_id=WHOLESALER,
            )
            if openid not in holders:
                message.state, message.error_detail = MessageState.SKIPPED, "skipped: no subscription grant for this template"
            messages.append(message)
        queued = await self._outbox.enqueue(messages)
        return [m.msg_id for m in messages if m.state != MessageState.SKIPPED and m.msg_id in queued]
