"""The order change watcher: notices which bound customers' open orders changed and turns
every real change into an event, fanned out to the users who follow the order.

ERP cost per cycle grows with what changed, not with customers: one paged read of many
customers' open orders (``queries.orders_of_customers``: 200 customers and 1,000 rows a read by default,
only the columns of the digest), one read of the orders that left the open set since the last
cycle (to learn how they ended), then lines and deliveries only for the orders that need them:
an order whose digest (status, rates, totals: ``queries.WATCH_COLUMNS``) moved, one seen for the
first time (its baseline), and one with a packed delivery not yet dispatched (dispatch flips a
flag of the delivery, not of the order). Orders whose digest stands still cost no read and no
write. An order seen for the first time only records its snapshot. Events, snapshots and queued
messages of a customer are written in one transaction, so a crash cannot lose or repeat an event.

The customers are split into partitions, each a lease in the database (bff/notify/partitions.py):
instances share them, and a dead instance's are taken over within ``BFF_WATCH_LEASE_TTL_S`` plus
one heartbeat. A cycle longer than a heartbeat renews between batches of customers, and stops
working on a partition it could not renew.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import math
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete
from sqlmodel import col, select

from bff.core.clock import Clock, utc_now
from bff.core.domain import Material, Order, OrderStatus, Shipment
from bff.erp.errors import ErpFailure, ErpUnavailable
from bff.erp.guesses import Guesses
from bff.erp.mapping import CODES_BY_STATUS, FINAL_STATUSES, order_from_record, status_name
from bff.erp.models import SalesOrderRecord
from bff.erp.queries import WATCH_COLUMNS
from bff.erp.reader import ErpReader
from bff.notify.fanout import Event, fan_out
from bff.notify.outbox import MessageState, NewMessage, Outbox
from bff.notify.partitions import Partitions, partition_of
from bff.notify.prefs import Preferences, PreferenceStore
from bff.notify.templates import EventKind, Templates
from bff.notify.tracks import Ask, Parcels
from bff.notify.watch_reads import details_of_customers, orders_of_customers
from bff.orders.logistics import LogisticsNames
from bff.orders.progress import fulfilment, material_summary
from bff.store.db import Database, DatabaseUnavailable
from bff.store.tables import ErpBinding, OrderEvent, OrderSnapshot

log = logging.getLogger(__name__)

OPEN_STATUSES = (OrderStatus.NOT_STARTED, OrderStatus.IN_PROGRESS)
UNKNOWN_STATUS = OrderStatus.UNKNOWN.value
OPEN_CODES = sorted({code for status in OPEN_STATUSES for code in CODES_BY_STATUS[status]})
DIGESTED = tuple(name for name in WATCH_COLUMNS if name not in ("id", "code", "customerId"))
STOP_WAIT_S = 5.0  # stop() never waits longer than this for the last cycle, nor for the release


def digest(record: SalesOrderRecord) -> str:
    """What the order row says of its state: the status, the rates and the totals."""
    values = [getattr(record, name, None) for name in DIGESTED]
    return hashlib.sha256(json.dumps(values, default=str).encode()).hexdigest()[:32]


def _pending(snapshot: OrderSnapshot) -> bool:
    """A packed delivery waits for dispatch: its flag may flip while the order row stands still."""
    return not all(json.loads(snapshot.shipments or "{}").values())


def needs_detail(snapshot: OrderSnapshot | None, order_digest: str) -> bool:
    return snapshot is None or snapshot.digest != order_digest or _pending(snapshot)


@dataclass
class CycleStats:
    """What the last watch did (tests and the bench read it)."""

    partitions: set[int] = field(default_factory=set)
    customers: int = 0
    orders: int = 0  # order rows read
    detailed: set[str] = field(default_factory=set)  # orders whose lines and deliveries were read
    events: int = 0  # changes found (events emitted)
    seconds: float = 0.0  # how long the cycle took


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


def _first_dispatched(seen: dict[str, Seen], snapshots: dict[str, OrderSnapshot]) -> list[Shipment]:
    """Shipments dispatched since the order's last snapshot (all dispatched ones of an order seen
    for the first time, or of one that just became final)."""
    found: list[Shipment] = []
    for order_id, new in seen.items():
        old = snapshots.get(order_id)
        before: dict[str, bool] = json.loads(old.shipments or "{}") if old is not None else {}
        found.extend(s for shipment_id, s in sorted(new.by_id.items()) if s.shipped and not before.get(shipment_id, False))
    return found


def _summary(materials: list[Material]) -> str:
    return material_summary(materials) or ""


def _carrier(shipment: Shipment) -> str | None:
    """The company, else the remark (in practice the actual carrier and route)."""
    return shipment.logistics_company or shipment.remark


def _event_id(*parts: object) -> str:
    return hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class WatcherConfig:
    """What the watcher uses of the settings (``BFF_WATCH_*``)."""

    interval_s: float
    customers_per_read: int
    partitions: int
    lease_ttl_s: float


class Watcher:
    def __init__(
        self, db: Database, erp: ErpReader, logistics: LogisticsNames,
        outbox: Outbox, prefs: PreferenceStore, templates: Templates, config: WatcherConfig, clock: Clock = utc_now,
        instance: str | None = None, guesses: Guesses | None = None,
    ) -> None:
        # No last good answers here: a stale answer is never compared, so an outage sends nothing.
        self._db, self._erp, self._logistics = db, erp, logistics
        self._guesses = guesses or Guesses()  # shared with the purchasers' reads: one process, one ERP
        self._outbox, self._prefs, self._templates, self._config = outbox, prefs, templates, config
        self.clock = clock
        self.partitions = Partitions(
            db, instance or outbox.instance, config.partitions, config.lease_ttl_s, clock=lambda: self.clock())
        self.heartbeat_s = config.lease_ttl_s / 4  # a lease is renewed 3 times before it could expire
        self._last_watched: dict[int, float] = {}  # partition -> loop time of its last watch here
        self.last_cycle = CycleStats()
        self._cycle_listeners: list[Callable[[CycleStats], None]] = []  # e.g. the metrics
        self._task: asyncio.Task[None] | None = None
        self.parcels: Parcels | None = None  # dispatched shipments' tracks are followed (bff/notify/tracks.py)
        self._watching = asyncio.Lock()  # the loop and a caller of run_cycle never watch at once

    # --- one cycle ----------------------------------------------------------------------------

    async def run_cycle(self) -> int:
        """Watch now every partition this instance holds or can claim; returns the events emitted."""
        held = await self.partitions.tick()
        for partition in held:
            self._last_watched[partition] = asyncio.get_running_loop().time()
        return await self._watch(held)

    async def tick(self, *, first: bool = False) -> int:
        """The loop's step: renew and claim partitions, then watch those not watched for an interval
        (a partition taken over later at once). The partitions claimed at start-up are first watched
        an interval later: the snapshots are in the database, and a process starting up (or a test
        counting ERP calls) sees no burst of reads."""
        held = await self.partitions.tick()
        now = asyncio.get_running_loop().time()
        if first:
            self._last_watched.update((p, now) for p in held)
        for partition in set(self._last_watched) - held:
            del self._last_watched[partition]  # given back or lost: watched at once if it comes back
        due = {p for p in held if now - self._last_watched.get(p, -math.inf) >= self._config.interval_s}
        if not due:
            return 0
        for partition in due:
            self._last_watched[partition] = now
        return await self._watch(due)

    def add_cycle_listener(self, listener: Callable[[CycleStats], None]) -> None:
        """Called with each finished cycle's stats (duration, customers, changes found)."""
        self._cycle_listeners.append(listener)

    async def _watch(self, partitions: set[int]) -> int:
        async with self._watching:
            started = time.perf_counter()
            emitted = await self._watch_partitions(partitions)
            stats = self.last_cycle
            stats.events, stats.seconds = emitted, time.perf_counter() - started
            for listener in self._cycle_listeners:
                listener(stats)
            return emitted

    async def _watch_partitions(self, partitions: set[int]) -> int:
        stats = self.last_cycle = CycleStats(partitions=set(partitions))
        count = self.partitions.count
        customers = {c: o for c, o in (await self._bound_customers()).items() if partition_of(c, count) in partitions}
        ids = sorted(customers)
        emitted = 0
        every = timedelta(seconds=self.heartbeat_s)
        per_read = self._config.customers_per_read
        unwatched = 0  # customers the ERP's failures left unwatched this cycle, and the last failure
        reason: ErpFailure | None = None
        for start in range(0, len(ids), per_read):
            if self.partitions.renewal_due(every):  # a long cycle renews its leases on the way
                try:
                    await self.partitions.tick()
                except Exception:  # noqa: BLE001  (holds() ends the leases by our own clock)
                    log.warning("watcher: could not renew the partition leases")
            held = self.partitions.holds() & partitions
            chunk = [c for c in ids[start:start + per_read] if partition_of(c, count) in held]
            if not chunk:
                continue  # lost or given back: its new holder watches it
            if isinstance(reason, ErpUnavailable):  # down: the other batches would only wait for it too
                unwatched += len(chunk)
                continue
            stats.customers += len(chunk)
            try:
                emitted += await self._watch_customers(chunk, customers, stats)
            except ErpFailure as error:  # no usable answer: these customers are compared next cycle
                unwatched += len(chunk)
                reason = error
            except DatabaseUnavailable:
                raise  # every batch would fail alike: the cycle ends (logged once per outage by the database)
            except Exception:  # this batch's trouble must not stop the others
                log.exception("watcher: %d customers skipped this cycle", len(chunk))
        if unwatched:  # one line per cycle, however many batches the outage cost
            log.warning("watcher: %d of %d customers not watched this cycle: ERP %s (%s)", unwatched, len(ids),
                        type(reason).__name__, reason.reason if reason else "")
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

    async def _watch_customers(self, chunk: list[str], openids: dict[str, list[str]], stats: CycleStats) -> int:
        """A batch of customers: one paged read of their open orders, one of the orders that left,
        then one batched read of lines and one of deliveries for the orders that need them."""
        async with self._db.session() as s:
            snapshots = list((await s.exec(select(OrderSnapshot).where(col(OrderSnapshot.customer_id).in_(chunk)))).all())
        per_read = self._config.customers_per_read
        records = await orders_of_customers(self._erp, chunk, self._guesses, statuses=OPEN_CODES, per_read=per_read)
        gone = {row.order_id for row in snapshots} - {r.id for r in records}
        if gone:  # became final (or vanished) since the last cycle: one read to learn how they ended
            records += await orders_of_customers(self._erp, chunk, self._guesses, ids=sorted(gone), per_read=per_read)
        stats.orders += len(records)
        before = {row.order_id: row for row in snapshots}
        due = [r for r in records if needs_detail(before.get(r.id), digest(r))]
        seen = await self._read(due) if due else {}
        stats.detailed.update(seen)
        by_customer: dict[str, list[SalesOrderRecord]] = defaultdict(list)
        for record in records:
            by_customer[record.customerId].append(record)
        snapshots_of: dict[str, dict[str, OrderSnapshot]] = defaultdict(dict)
        for row in snapshots:
            snapshots_of[row.customer_id][row.order_id] = row
        emitted = 0
        count = self.partitions.count
        for customer_id in chunk:
            if partition_of(customer_id, count) not in self.partitions.holds():
                continue  # the lease ended while we read (by our own clock): its new holder writes
            try:
                emitted += await self._watch_customer(
                    customer_id, openids[customer_id], by_customer.get(customer_id, []),
                    snapshots_of[customer_id], seen)
            except DatabaseUnavailable:
                raise
            except Exception:  # one customer's trouble must not stop the others
                log.exception("watcher: customer %s skipped this cycle", customer_id)
        return emitted

    async def _read(self, records: list[SalesOrderRecord]) -> dict[str, Seen]:
        """Lines and deliveries of these orders (already read and proven their customers')."""
        materials, shipments = await details_of_customers(self._erp, self._logistics, self._guesses, records)
        seen = {}
        for record in records:
            order = order_from_record(record)
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

        # A status the ERP answered in a shape we cannot read is no change (the field degrades, and
        # a purchaser must not be told "未开始（原状态未知）" when nothing happened).
        if new.status != old.status and UNKNOWN_STATUS not in (new.status, old.status):
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

    async def _watch_customer(
        self, customer_id: str, openids: list[str], records: list[SalesOrderRecord],
        snapshots: dict[str, OrderSnapshot], details: dict[str, Seen],
    ) -> int:
        digests = {r.id: digest(r) for r in records}
        seen = {r.id: details[r.id] for r in records if r.id in details}
        vanished = set(snapshots) - set(digests)
        if vanished and not records:  # nothing at all came back: more likely a filter the ERP did not honour
            log.warning("watcher: none of customer %s's %d watched orders was found; kept (run bff erp check)",
                        customer_id, len(vanished))
            vanished = set()
        if not seen and not vanished:
            return 0  # nothing moved: no write
        now = self.clock()
        events: list[Event] = []
        for order_id, new in seen.items():
            if order_id in snapshots:
                events.extend(self._events(snapshots[order_id], new, now))
        prefs = await self._prefs.get_many(openids)
        messages: list[NewMessage] = []
        follow: list[Ask] = []
        async with self._db.session() as s:
            for order_id, new in seen.items():
                old = snapshots.get(order_id)
                if new.order.status in FINAL_STATUSES:
                    if old is not None:
                        await s.delete(await s.merge(old))  # no longer watched
                    continue
                changed = old is not None and any(e.row.order_id == order_id for e in events)
                await s.merge(OrderSnapshot(
                    order_id=order_id, customer_id=customer_id, order_code=new.order.code,
                    status=old.status if old is not None and new.status == UNKNOWN_STATUS else new.status,
                    produced_ratio=new.produced, shipped_ratio=new.shipped,
                    shipments=json.dumps(new.shipments, sort_keys=True),
                    version=(old.version + 1 if changed else old.version) if old else 0, seen_at=now,
                    digest=digests[order_id],
                ))
            if vanished:
                await s.exec(delete(OrderSnapshot).where(col(OrderSnapshot.order_id).in_(sorted(vanished))))
            s.add_all([e.row for e in events])
            messages = await self._fan_out(s, events, openids, prefs, now)
            if messages:
                await self._outbox.add_in(s, messages)
            if self.parcels is not None:  # in this transaction: a number is followed once, whatever happens next
                known = {o.order_id: o.order_code for o in snapshots.values()}
                known.update((r.id, r.code) for r in records if r.code)  # read filtered by the customer
                follow = await self.parcels.note(s, customer_id, _first_dispatched(seen, snapshots), known)
        if any(m.state == MessageState.QUEUED for m in messages):
            self._outbox.wake()
        if follow and self.parcels is not None:
            await self.parcels.subscribe(follow)
        return len(events)

    async def _fan_out(
        self, s: Any, events: list[Event], openids: list[str], prefs: dict[str, Preferences], now: datetime
    ) -> list[NewMessage]:
        return await fan_out(s, self._templates, events, openids, prefs, now)

    # --- the loop -----------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="order-watcher")

    async def stop(self) -> None:
        """Bounded: the last cycle gets ``STOP_WAIT_S`` to end, the release as long; the leases are
        given back before the database closes (Services.aclose stops the watcher first)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            done, _ = await asyncio.wait({task}, timeout=STOP_WAIT_S)
            if not done:
                log.warning("watcher: the last cycle did not end within %.0f s", STOP_WAIT_S)
            elif not task.cancelled() and task.exception() is not None:
                pass  # stopping: the last cycle's failure was logged
        try:
            await asyncio.wait_for(self.partitions.release(), STOP_WAIT_S)  # another instance takes over at once
        except Exception:  # noqa: BLE001  (the leases then expire by themselves, within the ttl)
            log.warning("watcher: could not release the partition leases")

    async def _run(self) -> None:
        first = True
        while True:
            try:
                await self.tick(first=first)
                first = False
                if self.parcels is not None:
                    await self.parcels.retry()  # subscriptions that failed; expired tracks
            except DatabaseUnavailable:  # logged once per outage by the database: the next cycle tries again
                pass
            except Exception:  # one bad cycle must not stop the watcher
                log.exception("watcher: cycle failed")
            # Renewals every heartbeat; cycles shorter than that (the demo's 1 s) tick as often.
            await asyncio.sleep(min(self.heartbeat_s, self._config.interval_s))
