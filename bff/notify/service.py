"""The notification parts wired together, one per process (``Services.notify``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from sqlalchemy import and_, bindparam, func, or_, update
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import col, select

from bff.core.clock import Clock, aware, utc_now
from bff.core.domain import OrderStatus
from bff.erp.guesses import Guesses
from bff.erp.mapping import status_name
from bff.erp.reader import ErpReader
from bff.notify.admin_alerts import AdminAlerts
from bff.notify.follows import Follows, followers
from bff.notify.grants import Grants
from bff.notify.messages import Audience, ManualSender, Message, message_from_row
from bff.notify.outbox import Outbox, OutboxConfig
from bff.notify.prefs import PreferenceStore
from bff.notify.reconcile import DeliveryLog
from bff.notify.templates import EventKind, TemplateIds, Templates
from bff.notify.tracks import Parcels, TracksConfig
from bff.notify.watcher import Watcher, WatcherConfig
from bff.orders.logistics import LogisticsNames
from bff.store.db import Database
from bff.store.tables import MessageLog, OrderEvent
from bff.tracking import TrackingClient
from bff.wechat import WechatClient

# Built once: making an IN clause of ORM columns costs more CPU than running the query.
_STATUS_EVENTS = (
    select(OrderEvent.order_id, OrderEvent.old_value, OrderEvent.new_value, OrderEvent.observed_at)
    .where(col(OrderEvent.order_id).in_(bindparam("order_ids", expanding=True)),
           col(OrderEvent.kind) == EventKind.ORDER_STATUS.value)
    .order_by(col(OrderEvent.observed_at))
)


@dataclass(frozen=True)
class NotifyConfig:
    """What the notification parts use of the settings."""

    enabled: bool  # BFF_NOTIFY_ENABLED: the outbox worker and the change watcher run
    templates: TemplateIds
    outbox: OutboxConfig
    watcher: WatcherConfig
    tracks: TracksConfig = field(default_factory=lambda: TracksConfig(callback_url=""))


class Notifications:
    def __init__(
        self, config: NotifyConfig, db: Database, erp: ErpReader, wechat: WechatClient,
        logistics: LogisticsNames, clock: Clock = utc_now, delivery_log: DeliveryLog | None = None,
        guesses: Guesses | None = None, tracking: TrackingClient | None = None,
    ) -> None:
        self._db = db
        self.config = config
        self.templates = Templates(config.templates)
        self.grants = Grants(db)
        self.prefs = PreferenceStore(db)
        self.follows = Follows(db)
        # Real WeChat cannot say what it delivered: none; the demo hands in its simulator's (bff.notify.reconcile).
        self.outbox = Outbox(db, wechat, config.outbox, delivery_log=delivery_log)
        self.watcher = Watcher(db, erp, logistics, self.outbox, self.prefs, self.templates, config.watcher,
                               guesses=guesses)
        # Parcel tracks: followed from the watcher, pushed to /api/tracking/callback (bff/notify/tracks.py).
        self.parcels = Parcels(db, tracking, config.tracks, erp, logistics, self.templates, self.outbox, self.prefs, clock)
        self.watcher.parcels = self.parcels
        self.admin_alerts = AdminAlerts(db, self.templates, self.grants, self.outbox, clock)
        self.manual = ManualSender(self.templates, self.outbox)
        self.set_clock(clock)
        self._started = False

    def set_clock(self, clock: Clock) -> None:
        """Tests move time (do-not-disturb windows, retries) through here."""
        self.clock = clock
        for part in (self.grants, self.prefs, self.follows, self.outbox, self.watcher, self.admin_alerts, self.parcels):
            part.clock = clock

    def start(self) -> None:
        if self.config.enabled and not self._started:
            self._started = True
            self.outbox.start()
            self.watcher.start()

    async def stop(self) -> None:
        self._started = False
        await self.watcher.stop()
        await self.outbox.stop()

    # --- the message centre -------------------------------------------------------------------

    async def messages(self, audience: Audience, page: int, page_size: int, *, operator: bool) -> tuple[int, list[Message]]:
        """A page of the user's message centre (their current company's); the outbox states only for ``operator``s."""
        where = (*_theirs(audience), col(MessageLog.created_at).is_not(None))
        async with self._db.session() as s:
            total = (await s.exec(select(func.count()).select_from(MessageLog).where(*where))).one()
            rows = (await s.exec(
                select(MessageLog).where(*where).order_by(col(MessageLog.created_at).desc())
                .offset((page - 1) * page_size).limit(page_size)
            )).all()
        return int(total), [message_from_row(row, operator) for row in rows]

    async def unread(self, audience: Audience) -> int:
        """Unread messages of the centre: the same rows its unread dots mark, whatever their send state."""
        async with self._db.session() as s:
            return int((await s.exec(select(func.count()).select_from(MessageLog).where(
                *_theirs(audience), MessageLog.created_at != None, MessageLog.read_at == None,  # noqa: E711
            ))).one())

    async def mark_read(self, audience: Audience, msg_id: str) -> bool:
        """False for a message that is not in the user's centre (another user's, another company's)."""
        theirs = (col(MessageLog.msg_id) == msg_id, *_theirs(audience))
        async with self._db.session() as s:
            result = await s.exec(
                update(MessageLog).where(*theirs, col(MessageLog.read_at).is_(None)).values(read_at=self.clock())
            )
            if result.rowcount:
                return True
            already = (await s.exec(select(MessageLog.msg_id).where(*theirs))).first()  # read before, still theirs?
            return already is not None

    async def order_notes(self, openid: str, order_ids: Sequence[str]) -> dict[str, OrderNotes]:
        """What the BFF itself knows of these orders for this user (followed, observed status
        changes): two plain queries on one connection, whatever the number of orders (an
        order page asks on every view; an ORM session would cost twice the CPU)."""
        ids = sorted(set(order_ids))
        async with self._db.read() as conn:
            events = await conn.execute(_STATUS_EVENTS, {"order_ids": ids})
            followed = {order_id for _, order_id in await followers(conn, [openid], ids)}
        by_order: dict[str, list[StatusEvent]] = {i: [] for i in ids}
        for event in events:
            by_order[event.order_id].append(event)
        return {i: OrderNotes(i in followed, status_changes(by_order[i])) for i in ids}


def _theirs(audience: Audience) -> tuple[ColumnElement[bool], ...]:
    """The rows of ``audience``'s centre (``Audience`` and ``Bound.owns`` say which)."""
    company = col(MessageLog.company_id)
    return (
        col(MessageLog.openid) == audience.openid,
        or_(company == audience.bound.company_id,
            and_(company.is_(None), col(MessageLog.created_at) >= audience.bound.bound_at)),
    )


StatusChange = tuple[datetime, OrderStatus, str]


@dataclass(frozen=True)
class OrderNotes:
    followed: bool
    status_changes: list[StatusChange]


class StatusEvent(Protocol):
    """An observed status change, as read from ``order_events``."""

    old_value: str | None
    new_value: str | None
    observed_at: datetime


def status_changes(events: Iterable[StatusEvent]) -> list[StatusChange]:
    """An order's status changes (oldest first): when, to what, "from → to"."""
    changes = []
    for event in events:
        before, after = status_name(event.old_value), status_name(event.new_value)
        new = next((s for s in OrderStatus if s.value == event.new_value), OrderStatus.UNKNOWN)
        changes.append((aware(event.observed_at), new, f"{before} → {after}"))
    return changes
