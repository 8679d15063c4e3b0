"""Parcel tracks (docs/tracking.md): which shipments are followed, what the tracking service
pushed or answered, and the "已签收" / "运输异常" messages they cause.

* The change watcher hands over each dispatched shipment with a tracking number the first time it
  sees it dispatched (:meth:`Parcels.note`, in the watcher's transaction); once committed, it is
  subscribed (:meth:`Parcels.subscribe`): one subscription per tracking number, ever. A carrier
  the watcher's rows lack is read from the delivery's detail first, once.
* Pushes (:meth:`Parcels.receive`) are checked against our salt, and stored only when they say
  more than what is kept (pushes repeat and arrive out of order); a track that reaches SIGNED, or
  PROBLEM / RETURNED, queues one message per following purchaser through the outbox, once per
  tracking number and state: a shipment carrying several of the customer's orders tells the
  followers of each, every purchaser once, the message opening the order they follow.
* A purchaser opening a shipment whose track is missing or stale causes the real-time query
  (:meth:`Parcels.refresh`), at most once per number per ``query_every_s`` across instances (the
  claim is a conditional update of ``queried_at``).
* Tracks are bounded (100 points) and deleted ``keep_days`` after their last change,
  ``keep_signed_days`` after signing (:meth:`Parcels.purge`). No phone number is stored: the last
  four digits travel from the ERP's delivery to the tracking service in memory only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select

from bff.core.clock import Clock, aware, utc_now
from bff.core.domain import Shipment, TrackEvent, Tracking, TrackingState
from bff.erp.reader import ErpReader
from bff.notify.fanout import Event, addressed
from bff.notify.follows import followers
from bff.notify.outbox import MessageState, Outbox
from bff.notify.prefs import Preferences, PreferenceStore
from bff.notify.templates import EventKind, Templates
from bff.orders.details import DeliveryDetails
from bff.orders.logistics import LogisticsNames
from bff.store.db import Database
from bff.store.tables import ErpBinding, OrderEvent, ParcelTrack
from bff.tracking import TrackingClient, TrackingError, TrackingRefused, carrier_of
from bff.tracking.carriers import Carrier, by_code
from bff.tracking.protocol import MAX_NUMBER_CHARS, Track, newer, push_of

log = logging.getLogger("bff.tracking")

NOTIFIED_KINDS: dict[TrackingState, tuple[EventKind, str]] = {
    TrackingState.SIGNED: (EventKind.PARCEL_SIGNED, "已签收"),
    TrackingState.PROBLEM: (EventKind.PARCEL_PROBLEM, "运输异常"),
    TrackingState.RETURNED: (EventKind.PARCEL_PROBLEM, "运输异常"),
}
SUBSCRIBE_ATTEMPTS = 5  # then a purchaser opening the shipment is the only way left (it queries)
SUBSCRIBE_AT_ONCE = 8
DETAILS_PER_CYCLE = 50  # carriers read from deliveries' details per watcher cycle
MAX_PHONES_KEPT = 10_000  # tails for retried subscriptions, in this process only
PURGE_EVERY_S = 3600


@dataclass(frozen=True)
class TracksConfig:
    callback_url: str  # where the service pushes: BFF_TRACKING_CALLBACK_URL or BFF_PUBLIC_URL's
    query_every_s: float = 300.0  # at most one real-time query per number this often
    stale_s: float = 1800.0  # a track not final and not changed for this long is refreshed when opened
    keep_days: int = 90
    keep_signed_days: int = 30


@dataclass(frozen=True)
class Ask:
    """A shipment a purchaser is shown, as the tracks need it (a dataloader key)."""

    number: str
    carrier: str | None  # the ERP's name
    shipment_id: str
    order_ids: tuple[str, ...]
    order_code: str
    phone_tail: str | None = field(default=None, repr=False)
    order_codes: tuple[str, ...] = ()  # every order number the delivery names (orderCodes)
    live: bool = False  # opened (the order or shipment page), not listed: the query may run


@dataclass
class Kept:
    """A stored track as the purchaser reads it."""

    number: str
    customer_id: str
    state: TrackingState
    carrier: str | None
    com: str | None
    final: bool
    updated_at: datetime | None
    events: tuple[TrackEvent, ...]
    subscribed: bool

    def tracking(self) -> Tracking:
        return Tracking(self.state, self.updated_at, self.events, self.carrier)


def valid_number(number: str | None) -> bool:
    return bool(number) and len(number or "") <= MAX_NUMBER_CHARS and (number or "").isascii() and (number or "").isalnum()


def ask_of(shipment: Shipment, carrier: str | None, *, live: bool) -> Ask | None:
    """What the tracks need of a dispatched shipment with a tracking number (None otherwise)."""
    number = (shipment.tracking_number or "").strip()
    if not shipment.shipped or not valid_number(number):
        return None
    return Ask(number, carrier, shipment.id, shipment.order_ids or tuple(filter(None, [shipment.via_order_id])),
               shipment.order_codes[0] if shipment.order_codes else "", shipment.phone_tail,
               order_codes=tuple(shipment.order_codes), live=live)


def unsupported(ask: Ask, kept: Kept | None) -> bool:
    """A carrier the tracking service does not follow for us (a freight line, an unknown name, or
    none in the ERP): 暂不支持自动查询."""
    if kept is not None and kept.com is not None:
        return False
    return carrier_of(ask.carrier) is None and (kept is None or kept.state in (TrackingState.UNKNOWN, TrackingState.UNSUPPORTED))


def _events_json(track: Track) -> str:
    return json.dumps([[p.time.isoformat() if p.time else None, p.text, p.location] for p in track.points], ensure_ascii=False)


def _events(raw: str) -> tuple[TrackEvent, ...]:
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        return ()
    return tuple(TrackEvent(datetime.fromisoformat(t) if t else None, str(text), location) for t, text, location in items)


def _kept(row: ParcelTrack) -> Kept:
    state = TrackingState(row.state) if row.state in TrackingState.__members__ else TrackingState.UNKNOWN
    return Kept(row.number, row.customer_id, state, row.carrier, row.com, row.final, aware(row.updated_at),
                _events(row.events), row.subscribed_at is not None)


def _event_id(number: str, kind: EventKind, order_id: str | None = None) -> str:
    """The parcel's event (its first order's), or its record for another order it carries."""
    key = f"parcel|{number}|{kind.value}" + (f"|{order_id}" if order_id is not None else "")
    return hashlib.sha256(key.encode()).hexdigest()[:32]


MAX_ORDER_CODES_CHARS = 1000  # ParcelTrack.order_codes


def carried_orders(ask: Ask, known: Mapping[str, str]) -> dict[str, str]:
    """The shipment's orders that ``known`` (the customer's orders as the watcher read them,
    scoped to the customer: id → number) holds, by id or by number, in the shipment's order;
    as many as the column holds."""
    by_code = {code: order_id for order_id, code in known.items()}
    ids = list(ask.order_ids) + [by_code[c] for c in ask.order_codes if c in by_code]
    found: dict[str, str] = {}
    for order_id in dict.fromkeys(ids):
        if order_id in known and len(json.dumps({**found, order_id: known[order_id]}, ensure_ascii=False)) <= MAX_ORDER_CODES_CHARS:
            found[order_id] = known[order_id]
    return found


def orders_told(row: ParcelTrack) -> list[tuple[str, str]]:
    """(order id, number) of the orders whose followers a parcel's news reaches: those recorded
    (:func:`carried_orders`), else, for a row made without them, the shipment's first order."""
    recorded: dict[str, str] = json.loads(row.order_codes or "{}")
    if recorded:
        return list(recorded.items())
    order_ids = json.loads(row.order_ids or "[]")
    return [(order_ids[0], row.order_code)] if order_ids else []


class Parcels:
    def __init__(
        self, db: Database, client: TrackingClient | None, config: TracksConfig, erp: ErpReader,
        logistics: LogisticsNames, templates: Templates, outbox: Outbox, prefs: PreferenceStore, clock: Clock = utc_now,
    ) -> None:
        self._db, self.client, self.config = db, client, config
        self.callback_url = config.callback_url  # the demo sets it once its port is known
        self._logistics = logistics
        self._details = DeliveryDetails(erp, None)
        self._templates, self._outbox, self._prefs = templates, outbox, prefs
        self.clock = clock
        self._phones: OrderedDict[str, str] = OrderedDict()  # number -> tail, for retries; never stored
        self._purged_at: datetime | None = None

    @property
    def enabled(self) -> bool:
        return self.client is not None and self.client.config.enabled

    # --- the watcher: each dispatched shipment with a number, followed once ----------------------

    async def note(
        self, s: Any, customer_id: str, shipments: Iterable[Shipment], orders: Mapping[str, str] | None = None,
    ) -> list[Ask]:
        """In the watcher's transaction: a row for each number not yet known (its carrier when the
        watcher knows it), with the orders it carries among ``orders`` (the customer's orders the
        watcher read: id → number). Returns those to subscribe once committed."""
        asks = {a.number: a for a in (ask_of(sh, sh.logistics_company, live=False) for sh in shipments) if a is not None}
        if not asks:
            return []
        known = set((await s.exec(select(ParcelTrack.number).where(col(ParcelTrack.number).in_(sorted(asks))))).all())
        now = self.clock()
        fresh = [a for n, a in sorted(asks.items()) if n not in known]
        for ask in fresh:
            row = self._row(customer_id, ask, now)
            row.order_codes = json.dumps(carried_orders(ask, orders or {}), ensure_ascii=False)
            s.add(row)
        return fresh

    def _row(self, customer_id: str, ask: Ask, now: datetime) -> ParcelTrack:
        carrier = carrier_of(ask.carrier)
        state = TrackingState.UNSUPPORTED if ask.carrier and carrier is None else TrackingState.UNKNOWN
        return ParcelTrack(
            number=ask.number, com=carrier.code if carrier else None, carrier=(ask.carrier or "")[:50] or None,
            customer_id=customer_id, shipment_id=ask.shipment_id, order_ids=json.dumps(list(ask.order_ids[:20])),
            order_code=ask.order_code[:64], state=state.value, created_at=now,
            expires_at=now + timedelta(days=self.config.keep_days),
        )

    async def subscribe(self, asks: Sequence[Ask]) -> None:
        """Subscribe these numbers (rows exist): carriers the watcher did not know are read from
        the deliveries' details first. Failures are retried by :meth:`retry` (a few times)."""
        if not asks or not self.enabled:
            return
        for ask in asks:
            if ask.phone_tail:
                self._remember_phone(ask.number, ask.phone_tail)
        unknown = [a for a in asks if not a.carrier][:DETAILS_PER_CYCLE]
        read, names = await self._carriers([a.shipment_id for a in unknown]) if unknown else (set(), {})
        work: list[tuple[str, Carrier | None, str | None]] = []
        for ask in asks:
            name = ask.carrier or names.get(ask.shipment_id)
            if name or ask.shipment_id in read:  # a delivery whose detail names no carrier: not followed
                work.append((ask.number, carrier_of(name), name))
        await self._subscribe_rows(work)

    async def _carriers(self, delivery_ids: list[str]) -> tuple[set[str], dict[str, str]]:
        """The deliveries whose ERP detail was read, and their carriers' names (kept for a week:
        never read again). One not read is left to a purchaser's view (which reads it too)."""
        try:
            details = await self._details.of(delivery_ids)
            names = await self._logistics.names() if details else {}
        except Exception:  # noqa: BLE001  (the ERP unavailable: the purchaser's view reads it)
            log.warning("tracking: carriers of %d deliveries not read", len(delivery_ids))
            return set(), {}
        found: dict[str, str] = {}
        for delivery_id, detail in details.items():
            company_id = detail.logisticsCompanyId if detail.carries("logisticsCompanyId") else None
            if company_id:
                await self._logistics.keep(delivery_id, company_id)
                if names.get(company_id):
                    found[delivery_id] = names[company_id]
        return set(details), found

    async def _subscribe_rows(self, work: Sequence[tuple[str, Carrier | None, str | None]]) -> None:
        gate = asyncio.Semaphore(SUBSCRIBE_AT_ONCE)

        async def one(number: str, carrier: Carrier | None, name: str | None) -> None:
            if carrier is None:
                await self._mark(number, com=None, carrier=name, state=TrackingState.UNSUPPORTED, note="carrier not followed")
                return
            phone = self._phones.get(number)
            if carrier.needs_phone and not phone:
                await self._mark(number, com=carrier.code, carrier=name, note="phone needed")
                return
            async with gate:
                note, subscribed = await self._subscribe_one(carrier.code, number, phone if carrier.needs_phone else None)
            await self._mark(number, com=carrier.code, carrier=name, note=note, subscribed=subscribed, attempt=True)

        await asyncio.gather(*(one(*item) for item in work))

    async def _subscribe_one(self, com: str, number: str, phone: str | None) -> tuple[str | None, bool]:
        assert self.client is not None
        try:
            await self.client.subscribe(com, number, phone, self.callback_url)
        except TrackingRefused as refused:
            log.info("tracking: subscription refused return_code=%s", refused.return_code)
            return f"refused {refused.return_code}", False
        except TrackingError as error:
            log.info("tracking: subscription failed: %s", type(error).__name__)
            return "unavailable", False
        return None, True

    async def _mark(
        self, number: str, *, com: str | None, carrier: str | None, state: TrackingState | None = None,
        note: str | None = None, subscribed: bool = False, attempt: bool = False,
    ) -> None:
        async with self._db.session() as s:
            row = await s.get(ParcelTrack, number)
            if row is None:
                return
            row.com = com
            row.carrier = (carrier or row.carrier or "")[:50] or None
            if state is not None and row.state == TrackingState.UNKNOWN.value:
                row.state = state.value
            row.subscribe_note = note[:100] if note else None
            if attempt:
                row.subscribe_attempts += 1
            if subscribed:
                row.subscribed_at = self.clock()
                self._phones.pop(number, None)

    def _remember_phone(self, number: str, tail: str) -> None:
        self._phones[number] = tail
        self._phones.move_to_end(number)
        while len(self._phones) > MAX_PHONES_KEPT:
            self._phones.popitem(last=False)

    async def retry(self) -> None:
        """Each watcher cycle: subscriptions that failed (a few tries; a refusal is final, an
        aborted one is tried again), then the purge (hourly)."""
        now = self.clock()
        if self.enabled:
            async with self._db.session() as s:
                rows = (await s.exec(select(ParcelTrack).where(
                    col(ParcelTrack.subscribed_at).is_(None), col(ParcelTrack.com).is_not(None),
                    col(ParcelTrack.final).is_(False), col(ParcelTrack.subscribe_attempts) < SUBSCRIBE_ATTEMPTS,
                    or_(col(ParcelTrack.subscribe_note).is_(None), col(ParcelTrack.subscribe_note).in_(["unavailable", "aborted"])),
                ).limit(50))).all()
            work: list[tuple[str, Carrier | None, str | None]] = []
            for row in rows:
                carrier = by_code(row.com or "")
                if carrier is not None and (not carrier.needs_phone or row.number in self._phones):
                    work.append((row.number, carrier, row.carrier))
            await self._subscribe_rows(work)
        if self._purged_at is None or (now - self._purged_at).total_seconds() >= PURGE_EVERY_S:
            await self.purge()

    async def purge(self) -> int:
        """Tracks past their keeping time are deleted."""
        now = self.clock()
        self._purged_at = now
        async with self._db.session() as s:
            result = await s.exec(delete(ParcelTrack).where(col(ParcelTrack.expires_at) < now))
            return int(result.rowcount or 0)

    # --- pushes ------------------------------------------------------------------------------------

    async def receive(self, form: Mapping[str, str]) -> bool:
        """One push; False when it is not signed with our salt. Idempotent: a repeated or older push
        changes nothing and notifies nothing."""
        assert self.client is not None
        push = push_of(form, self.client.config.salt)
        if push is None:
            return False
        track = push.track
        if track is None or not valid_number(track.number):
            return True  # acknowledged: nothing we can keep
        number = track.number

        async def work(s: Any) -> list[Any]:
            row = await s.get(ParcelTrack, number, with_for_update=True)
            if row is None:
                return []  # not ours, or expired: acknowledged so that it stops
            if push.com_new:
                row.com = push.com_new
            if push.aborted:
                row.subscribed_at, row.subscribe_note = None, "aborted"
            return await self._apply(s, row, track)

        messages = await self._db.run(work, conflicts=True)
        if any(m.state == MessageState.QUEUED for m in messages):
            self._outbox.wake()
        return True

    async def _apply(self, s: Any, row: ParcelTrack, track: Track) -> list[Any]:
        """Keep ``track`` when it says more than the row; notify a state reached for the first time."""
        kept_points = len(_events(row.events))
        if not newer(track, aware(row.newest_at), kept_points) and not (track.final and not row.final):
            return []
        now = self.clock()
        row.state, row.raw_state, row.final = track.state.value, track.raw_state, track.final
        row.events = _events_json(track)
        row.newest_at = track.newest_at
        row.updated_at = now
        keep = self.config.keep_signed_days if track.state is TrackingState.SIGNED else self.config.keep_days
        row.expires_at = now + timedelta(days=keep)
        notified = set(filter(None, row.notified.split(",")))
        news = NOTIFIED_KINDS.get(track.state)
        if news is None or track.state.value in notified:
            return []
        row.notified = ",".join(sorted(notified | {track.state.value}))
        return await self._notify(s, row, track, *news, now)

    async def _notify(self, s: Any, row: ParcelTrack, track: Track, kind: EventKind, status: str, now: datetime) -> list[Any]:
        """The news to the followers of every order the shipment carries (:func:`orders_told`): each
        purchaser once (the dedupe key is the user's, the number's and the state's), the message
        opening the first of those orders they follow (a purchaser following every order: the
        first order). Each order records the event."""
        orders = orders_told(row)
        if not orders:
            return []
        event_id = _event_id(row.number, kind)
        if await s.get(OrderEvent, event_id) is not None:
            return []  # RETURNED after PROBLEM: one 运输异常 message
        latest = track.points[0].text if track.points else ""
        openids = sorted(set((await s.exec(select(ErpBinding.openid).where(
            ErpBinding.company_id == row.customer_id, ErpBinding.is_valid == True, ErpBinding.role == "purchaser",  # noqa: E712
        ))).all()))
        prefs = await self._prefs.get_many(openids) if openids else {}
        following = await followers(await s.connection(), openids, [order_id for order_id, _ in orders])
        told: dict[str, list[str]] = {order_id: [] for order_id, _ in orders}
        for openid in openids:
            chosen = next((order_id for order_id, _ in orders if (openid, order_id) in following), None)
            if chosen is None and prefs.get(openid, Preferences()).follow_all:
                chosen = orders[0][0]
            if chosen is not None:
                told[chosen].append(openid)
        recipients: list[tuple[Event, list[str]]] = []
        for n, (order_id, code) in enumerate(orders):
            facts = {"order_code": code, "summary": f"{row.carrier or ''} {row.number}".strip(), "status": status,
                     "remark": latest}
            event_row = OrderEvent(
                event_id=event_id if n == 0 else _event_id(row.number, kind, order_id), order_id=order_id,
                customer_id=row.customer_id, kind=kind.value, old_value=None, new_value=track.state.value,
                detail=json.dumps(facts, ensure_ascii=False), observed_at=now,
            )
            s.add(event_row)
            if not told[order_id]:
                continue
            title = f"{code} {status} · {row.carrier or ''} {row.number}".replace("  ", " ")[:100]
            recipients.append((Event(event_row, kind, facts, facts["summary"], title, shipment_id=row.shipment_id,
                                     once_per=event_id), told[order_id]))  # once per user, number and state
        messages = await addressed(s, self._templates, recipients, prefs, now)
        if messages:
            await self._outbox.add_in(s, messages)
        return messages

    # --- purchasers' reads ---------------------------------------------------------------------------

    async def kept(self, customer_id: str, numbers: Sequence[str]) -> dict[str, Kept]:
        """Stored tracks of these numbers (of shipments proven the customer's); a row of another
        customer is never returned."""
        wanted = sorted({n for n in numbers if valid_number(n)})
        if not wanted:
            return {}
        async with self._db.session() as s:
            rows = (await s.exec(select(ParcelTrack).where(col(ParcelTrack.number).in_(wanted)))).all()
        return {r.number: _kept(r) for r in rows if r.customer_id == customer_id}

    def due(self, kept: Kept | None) -> bool:
        """Whether a purchaser opening this shipment should cause a real-time query."""
        if kept is None:
            return True
        if kept.final or kept.state is TrackingState.UNSUPPORTED:
            return False
        if kept.updated_at is None:
            return True
        return (self.clock() - kept.updated_at).total_seconds() >= self.config.stale_s

    async def refresh(self, customer_id: str, ask: Ask, kept: Kept | None) -> Kept | None:
        """The real-time query for one opened shipment, when this instance wins the claim of this
        number's query slot; the stored track then, or None (nothing new could be had)."""
        carrier = carrier_of(ask.carrier) if ask.carrier else (by_code(kept.com or "") if kept else None)
        if not self.enabled or carrier is None:
            return None
        if not await self._claim(customer_id, ask, carrier):
            return None
        assert self.client is not None
        phone = ask.phone_tail if carrier.needs_phone else None
        try:
            track = await self.client.query(carrier.code, ask.number, phone)
        except TrackingError as error:
            log.info("tracking: query failed: %s", type(error).__name__)
            return None

        async def work(s: Any) -> tuple[list[Any], ParcelTrack | None]:
            row = await s.get(ParcelTrack, ask.number, with_for_update=True)
            if row is None or row.customer_id != customer_id:
                return [], None
            messages = await self._apply(s, row, track)
            return messages, row

        messages, row = await self._db.run(work, conflicts=True)
        if any(m.state == MessageState.QUEUED for m in messages):
            self._outbox.wake()
        if row is not None and row.subscribed_at is None and not row.final and row.subscribe_attempts < SUBSCRIBE_ATTEMPTS:
            if ask.phone_tail:
                self._remember_phone(ask.number, ask.phone_tail)
            await self._subscribe_rows([(ask.number, carrier, ask.carrier)])
        return _kept(row) if row is not None else None

    async def _claim(self, customer_id: str, ask: Ask, carrier: Carrier) -> bool:
        """This number's query slot (at most one query per ``query_every_s``, all instances)."""
        now = self.clock()
        since = now - timedelta(seconds=self.config.query_every_s)
        try:
            async with self._db.session() as s:
                result = await s.exec(update(ParcelTrack).where(
                    col(ParcelTrack.number) == ask.number, col(ParcelTrack.customer_id) == customer_id,
                    or_(col(ParcelTrack.queried_at).is_(None), col(ParcelTrack.queried_at) < since),
                ).values(queried_at=now))
                if result.rowcount:
                    return True
                if await s.get(ParcelTrack, ask.number) is not None:
                    return False
                row = self._row(customer_id, ask, now)
                row.com, row.queried_at = carrier.code, now
                s.add(row)
        except IntegrityError:
            return False  # another request made the row (and the query) just now
        return True
