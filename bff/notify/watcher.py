"""The order change watcher: compares each bound customer's open orders with the last
snapshot and turns every real change into an event, fanned out to the customer's users.

ERP cost per cycle grows with customers, not orders: per customer one paged read of the
non-final orders, one read of their lines, one of their delivery lines and one of the
deliveries (plus, only when some watched order left the non-final set, one read of those).
An order seen for the first time only records its snapshot. Events, snapshots and queued
messages of a customer are written in one transaction, so a crash cannot lose or repeat
an event. One instance watches at a time (a lease in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func
from sqlmodel import col, select

from bff.core.config import Settings
from bff.core.domain import Material, Order, OrderStatus, Shipment
from bff.erp.reader import ErpReader
from bff.core.clock import Clock, utc_now
from bff.notify.lease import Lease
from bff.notify.outbox import QUEUED, SENDING, SKIPPED, NewMessage, Outbox
from bff.notify.prefs import Preferences, PreferenceStore
from bff.notify.render import order_page, render
from bff.notify.templates import EventKind, Templates
from bff.orders.fallback import LastGoodAnswers
from bff.orders.logistics import LogisticsNames
from bff.erp.mapping import FINAL_STATUSES, status_name
from bff.notify.follows import followers
from bff.orders.progress import fulfilment, material_summary
from bff.erp.queries import MAX_ROWS
from bff.orders.reads import CustomerOrders
from bff.store.db import Database
from bff.store.tables import ErpBinding, MessageLog, OrderEvent, OrderSnapshot, SubscriptionGrant

log = logging.getLogger(__name__)

OPEN_STATUSES = (OrderStatus.NOT_STARTED, OrderStatus.IN_PROGRESS)


@dataclass
class Seen:
    """What the watcher keeps of an order: just enough to notice a change."""

    order: Order
    status: str
    produced: float
    shipped: float
    shipments: dict[str, bool]
    summary: str
    quantity: float
    by_id: dict[str, Shipment] = field(default_factory=dict)


@dataclass
class Event:
    row: OrderEvent
    kind: EventKind
    facts: dict[str, Any]
    summary: str
    title: str  # names the order and what changed: "SO2026112001 已发货 · 圆通速递 YT…"


def _summary(materials: list[Material]) -> str:
    return material_summary(materials) or ""


def _carrier(shipment: Shipment) -> str | None:
    """The company, else the remark (in practice the actual carrier and route)."""
    return shipment.logistics_company or shipment.remark


def _event_id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


class Watcher:
    def __init__(
        self, db: Database, erp: ErpReader, last_good: LastGoodAnswers, logistics: LogisticsNames,
        outbox: Outbox, prefs: PreferenceStore, templates: Templates, settings: Settings, clock: Clock = utc_now,
    ) -> None:
        self._db, self._erp, self._last_good, self._logistics = db, erp, last_good, logistics
        self._outbox, self._prefs, self._templates, self._settings = outbox, prefs, templates, settings
        self.clock = clock
        ttl = max(3 * settings.watch_interval_s, 10.0)
        self.lease = Lease(db, "order-watcher", outbox.instance, ttl, clock=lambda: self.clock())
        self._task: asyncio.Task[None] | None = None

    # --- one cycle ----------------------------------------------------------------------------

    async def run_cycle(self) -> int:
        """Watch every bound customer once (if this instance holds the lease); returns the events emitted."""
        if not await self.lease.acquire():
            return 0
        emitted = 0
        for customer_id, openids in (await self._bound_customers()).items():
            try:
                emitted += await self._watch_customer(customer_id, openids)
            except Exception:  # one customer's trouble must not stop the others
                log.exception("watcher: customer %s skipped this cycle", customer_id)
        return emitted

    async def _bound_customers(self) -> dict[str, list[str]]:
        async with self._db.session() as s:
            rows = (await s.exec(
                select(ErpBinding.company_id, ErpBinding.openid).where(
                    ErpBinding.is_valid == True, ErpBinding.role == "purchaser",  # noqa: E712
                    ErpBinding.company_id != None,  # noqa: E711
                ).distinct()
            )).all()
        customers: dict[str, list[str]] = {}
        for company_id, openid in rows:
            customers.setdefault(str(company_id), []).append(openid)
        return customers

    async def _read(self, customer_id: str, watched: set[str]) -> dict[str, Seen] | None:
        reads = CustomerOrders(self._erp, self._last_good, self._logistics, customer_id)
        orders: list[Order] = []
        page = 1
        while True:
            count, got = await reads.orders_in_statuses(OPEN_STATUSES, page, MAX_ROWS)
            orders.extend(got)
            if not got or len(orders) >= count:
                break
            page += 1
        gone = watched - {o.id for o in orders}
        if gone:  # became final (or vanished) since the last cycle: one read to learn how they ended
            orders.extend((await reads.orders_by_ids(sorted(gone))).values())
        if reads.stale_as_of is not None:
            return None  # the ERP is down and these are remembered answers: compare next time
        ids = [o.id for o in orders]
        if not ids:
            return {}
        materials = await reads.materials_by_order(ids)
        shipments = await reads.shipments_by_order(ids)
        if reads.stale_as_of is not None:
            return None
        seen = {}
        for order in orders:
            mine = shipments.get(order.id, [])
            lines = materials.get(order.id, [])
            progress = fulfilment(lines, mine)  # by value, dispatched goods only (docs/delivery.md)
            seen[order.id] = Seen(
                order, order.status.value, progress.produced_rate, progress.shipped_rate,
                {s.id: s.shipped for s in mine}, _summary(lines), sum(m.quantity for m in lines),
                {s.id: s for s in mine},
            )
        return seen

    def _events(self, old: OrderSnapshot, new: Seen, now: datetime) -> list[Event]:
        order, version = new.order, old.version + 1
        base = {"order_code": order.code, "summary": new.summary or order.code, "product": new.summary}
        events: list[Event] = []

        def add(kind: EventKind, old_value: str | None, new_value: str | None, facts: dict[str, Any], title: str) -> None:
            row = OrderEvent(
                event_id=_event_id(order.id, kind, new_value, version), order_id=order.id, customer_id=order.customer_id,
                kind=kind.value, old_value=old_value, new_value=new_value,
                detail=json.dumps({**base, **facts}, ensure_ascii=False, default=str), observed_at=now,
            )
            events.append(Event(row, kind, {**base, **facts}, new.summary or order.code, title[:100]))

        if new.status != old.status:
            before, after = status_name(old.status), status_name(new.status)
            add(EventKind.ORDER_STATUS, old.status, new.status, {"status": after, "remark": f"{before}→{after}"},
                f"{order.code} {after}（原{before}）")
        if new.produced >= 1.0 > old.produced_ratio:
            add(EventKind.PRODUCTION_DONE, str(old.produced_ratio), str(new.produced),
                {"quantity": f"{new.quantity:g}", "remark": "全部生产完成，等待发货"}, f"{order.code} 生产完成 · 等待发货")
        before_shipped: dict[str, bool] = json.loads(old.shipments or "{}")
        for shipment_id, shipped in sorted(new.shipments.items()):
            if shipped and not before_shipped.get(shipment_id, False):
                shipment = new.by_id[shipment_id]
                how = " ".join(filter(None, [_carrier(shipment), shipment.tracking_number]))
                add(EventKind.ORDER_SHIPPED, None, shipment_id,
                    {"logistics_company": _carrier(shipment), "tracking_number": shipment.tracking_number},
                    f"{order.code} 已发货" + (f" · {how}" if how else ""))
        if not events and (new.produced != old.produced_ratio or new.shipped != old.shipped_ratio):
            add(EventKind.PROGRESS, f"{old.produced_ratio}/{old.shipped_ratio}", f"{new.produced}/{new.shipped}", {},
                f"{order.code} 进度更新")
        return events

    async def _watch_customer(self, customer_id: str, openids: list[str]) -> int:
        async with self._db.session() as s:
            snapshots = {row.order_id: row for row in (await s.exec(
                select(OrderSnapshot).where(OrderSnapshot.customer_id == customer_id))).all()}
        seen = await self._read(customer_id, set(snapshots))
        if seen is None:
            return 0
        now = self.clock()
        events: list[Event] = []
        for order_id, new in seen.items():
            if order_id in snapshots:
                events.extend(self._events(snapshots[order_id], new, now))
        prefs = await self._prefs.get_many(openids)
        async with self._db.session() as s:
            for order_id, new in seen.items():
                old = snapshots.get(order_id)
                if new.order.status in FINAL_STATUSES:
                    if old is not None:
                        await s.delete(old)  # no longer watched
                    continue
                changed = old is not None and any(e.row.order_id == order_id for e in events)
                await s.merge(OrderSnapshot(
                    order_id=order_id, customer_id=customer_id, order_code=new.order.code, status=new.status,
                    produced_ratio=new.produced, shipped_ratio=new.shipped,
                    shipments=json.dumps(new.shipments, sort_keys=True),
                    version=(old.version + 1 if changed else old.version) if old else 0, seen_at=now,
                ))
            vanished = set(snapshots) - set(seen)
            if vanished:
                await s.exec(delete(OrderSnapshot).where(col(OrderSnapshot.order_id).in_(sorted(vanished))))
            s.add_all([e.row for e in events])
            messages = await self._fan_out(s, events, openids, prefs, now)
            if messages:
                await self._outbox.add_in(s, messages)
        if any(m.state == QUEUED for m in messages):
            self._outbox.wake()
        return len(events)

    async def _fan_out(
        self, s: Any, events: list[Event], openids: list[str], prefs: dict[str, Preferences], now: datetime
    ) -> list[NewMessage]:
        """One message per (event, user following its order): queued when the user holds a grant and
        allows the kind, else recorded as skipped with the reason. A user who follows neither the
        order nor every order gets nothing, and spends nothing. Grants claimed by queued messages count."""
        if not events:
            return []
        following = await followers(s, openids, {e.row.order_id for e in events})
        grants = {(g.openid, g.template_id): g.remaining for g in (await s.exec(
            select(SubscriptionGrant).where(col(SubscriptionGrant.openid).in_(openids)))).all()}
        pending = await s.exec(
            select(MessageLog.openid, MessageLog.template_id, func.count()).where(
                col(MessageLog.openid).in_(openids), col(MessageLog.msg_status).in_([QUEUED, SENDING])
            ).group_by(MessageLog.openid, MessageLog.template_id)
        )
        for openid, template_id, count in pending.all():
            grants[(openid, template_id)] = grants.get((openid, template_id), 0) - int(count)
        messages = []
        for event in events:
            spec = self._templates.for_kind(event.kind)
            if spec is None:
                continue  # timeline-only kind
            for openid in sorted(set(openids)):
                user = prefs.get(openid, Preferences())
                if not user.follow_all and (openid, event.row.order_id) not in following:
                    continue
                message = NewMessage(
                    openid=openid, template_id=spec.template_id, data={}, dedupe_key=f"{event.row.event_id}:{openid}",
                    kind=event.kind.value, order_id=event.row.order_id, title=event.title, summary=event.summary,
                )
                message.page = order_page(event.row.order_id, message.msg_id)
                message.data = render(spec, event.facts, now)
                if not user.allows(event.kind):
                    message.state, message.error_detail = SKIPPED, "skipped: the user switched this kind off"
                elif grants.get((openid, spec.template_id), 0) <= 0:
                    message.state, message.error_detail = SKIPPED, "skipped: no subscription grant for this template"
                else:
                    grants[(openid, spec.template_id)] -= 1
                    quiet_until = user.quiet_until(now)
                    message.not_before = quiet_until.astimezone(UTC) if quiet_until else None
                messages.append(message)
        return messages

    # --- the loop -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="order-watcher")

    async def stop(self) -> None:
        if self._task is None:
            return
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):  # stopping: the last cycle's failure was logged
            await self._task
        self._task = None
        try:
            await self.lease.release()  # let another instance take over at once
        except Exception:  # noqa: BLE001  (the lease then expires by itself)
            log.warning("watcher: could not release the lease")

    async def _run(self) -> None:
        while True:
            try:
                await self.run_cycle()
            except Exception:  # one bad cycle must not stop the watcher
                log.exception("watcher: cycle failed")
            await asyncio.sleep(self._settings.watch_interval_s)
