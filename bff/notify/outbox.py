"""The outbox: subscription messages queued in ``message_logs`` and a worker that sends them.

States: queued -> sending -> sent | failed | skipped | unknown (and sending -> queued for a retry).

- Claiming: several BFF instances share the table and never send the same row. MySQL:
  ``SELECT ... FOR UPDATE SKIP LOCKED`` then mark the rows; SQLite: one conditional UPDATE
  (SQLite runs one writer at a time, so it is atomic).
- A worker claims no more rows than it sends at once, so a row left ``sending`` by a dead
  process was on the wire. Every worker keeps a heartbeat row (``outbox:member:<instance>``,
  renewed by a task of its own, whatever its sends wait for): a row whose claimer has no live
  heartbeat is settled once it is ``IN_FLIGHT_GRACE_S`` old (a restart after a SIGKILL settles
  within about ``HEARTBEAT_TTL_S``), a live claimer's only after ``BFF_OUTBOX_STALE_S``.
  It is reconciled (:mod:`bff.notify.reconcile`): delivered ->
  sent, surely not delivered -> queued again; where WeChat cannot be asked it is settled as
  ``unknown``, never resent, because WeChat has no idempotency key and a user must not get
  the same event twice. ``unknown`` is not ``failed``: it may well have arrived.
- Transient failures (WeChat busy or down, rate limits, token trouble after the one refresh)
  are retried with capped exponential backoff for ``BFF_OUTBOX_RETRY_FOR_S`` (hours); 43101 skips the message and zeroes the user's grants
  for the template; 47003, 40037, 41030 and 40003 fail at once with WeChat's detail.
- A grant is spent in the same transaction that records the message as sent.
- A message is for its recipient as bound to one company (``company_id``; ``WHOLESALER`` for
  an administrator): one whose recipient is no longer bound to that company (unbound, or
  rebound elsewhere) is skipped when claimed, with the reason, and spends or zeroes no grant.
  A message without a company (from before migration 0008, or sent on request to an unbound
  user) is skipped if its recipient bound again after it was queued.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import Any, Literal

from sqlalchemy import delete, func, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.core.clock import Clock, aware, utc_now
from bff.core.security import new_id
from bff.notify import grants
from bff.notify.lease import Lease
from bff.notify.reconcile import CannotTell, DeliveryLog
from bff.store.db import Database, DatabaseUnavailable
from bff.store.tables import ErpBinding, MessageLog, WorkerLease
from bff.wechat import WechatClient
from bff.wechat.errors import WxApiError

log = logging.getLogger(__name__)


class MessageState(StrEnum):
    """A message's ``message_logs.msg_status``; the values are the strings stored (no migration)."""

    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"
    UNKNOWN = "unknown"


FINAL_STATES = frozenset({MessageState.SENT, MessageState.FAILED, MessageState.SKIPPED, MessageState.UNKNOWN})
NO_GRANT = 43101
FAIL_AT_ONCE = frozenset({47003, 40037, 41030, 40003})
SETTLE_EVERY_S = 5.0
MEMBER = "outbox:member:"  # worker_leases rows: each live worker's heartbeat
HEARTBEAT_S = 2.5
HEARTBEAT_TTL_S = 10.0  # four renewals missed: the worker is gone
IN_FLIGHT_GRACE_S = 10.0  # never settle a row claimed this recently (a worker without a heartbeat yet)
FORGET_AFTER = timedelta(hours=1)  # heartbeats expired this long ago are deleted
WHOLESALER = "*wholesaler"  # message_logs.company_id of a message to an administrator (no ERP customer)
NOT_THEIRS = "skipped: the user is no longer bound to this company"
BEFORE_BINDING = "skipped: queued before the user's current binding"


@dataclass(frozen=True)
class Bound:
    """A user's current binding, as messages are matched to it."""

    company_id: str | None  # the ERP customer id, or WHOLESALER
    bound_at: datetime

    def owns(self, company_id: str | None, created_at: datetime | None) -> bool:
        """Whether a message of ``company_id`` created at ``created_at`` is this binding's."""
        if company_id is None:  # no company recorded: the binding that stood when it was made (MySQL: to the second)
            return created_at is None or aware(created_at) >= aware(self.bound_at)
        return company_id == self.company_id


def company_of(role: str, company_id: str | None) -> str | None:
    """What ``message_logs.company_id`` holds for a binding of this role and company."""
    return WHOLESALER if role == "admin" else company_id


async def current_bindings(s: AsyncSession, openids: list[str]) -> dict[str, Bound]:
    """Each user's current (newest valid) binding; users without one are absent."""
    if not openids:
        return {}
    rows = (await s.exec(
        select(ErpBinding.openid, ErpBinding.role, ErpBinding.company_id, ErpBinding.bound_at)
        .where(col(ErpBinding.openid).in_(sorted(set(openids))), col(ErpBinding.is_valid) == True)  # noqa: E712
        .order_by(col(ErpBinding.bound_at))
    )).all()
    return {openid: Bound(company_of(role, company_id), bound_at) for openid, role, company_id, bound_at in rows}  # newest last


@dataclass(frozen=True)
class OutboxConfig:
    """What the outbox uses of the settings (``BFF_OUTBOX_*``, ``BFF_WX_MINIPROGRAM_STATE``)."""

    poll_s: float
    batch: int
    concurrency: int
    retry_base_s: float
    retry_max_s: float
    retry_for_s: float
    stale_s: float
    miniprogram_state: Literal["developer", "trial", "formal"]


@dataclass
class NewMessage:
    openid: str
    template_id: str
    data: dict[str, str]
    dedupe_key: str
    kind: str | None = None
    page: str | None = None
    order_id: str | None = None
    title: str | None = None
    summary: str | None = None
    state: MessageState = MessageState.QUEUED
    error_detail: str | None = None
    not_before: datetime | None = None
    session_id: str | None = None
    company_id: str | None = None  # whose message: the recipient's company (WHOLESALER: an administrator)
    msg_id: str = ""

    def __post_init__(self) -> None:
        self.msg_id = self.msg_id or new_id()


@dataclass(frozen=True)
class Backlog:
    queued: int
    sending: int
    lag_s: float  # how long the most overdue due message has waited
    # How long the oldest message has waited since it was first due: a message put back for a
    # retry counts from its queueing (``lag_s`` would forget it while it waits for its next try).
    oldest_s: float = 0.0


@dataclass
class WechatReach:
    """What this instance's sends say of WeChat: one log line when it stops answering and one
    when it answers again, with the count, however many sends fail in between."""

    failing_since: datetime | None = None
    failed_sends: int = 0  # in the current episode
    failed_total: int = 0  # since the process started

    def failed(self, now: datetime, errcode: int | None, detail: str | None) -> None:
        self.failed_sends += 1
        self.failed_total += 1
        if self.failing_since is None:
            self.failing_since = now
            log.warning("outbox: WeChat not answering (%s %s); messages wait and are retried", errcode, detail or "")

    def answered(self, now: datetime) -> None:
        if self.failing_since is not None:
            log.warning("outbox: WeChat answering again after %d failed send(s) in %.0f s",
                        self.failed_sends, (now - self.failing_since).total_seconds())
        self.failing_since, self.failed_sends = None, 0


@dataclass(frozen=True)
class Outcome:
    state: MessageState
    errcode: int | None = None
    detail: str | None = None
    msgid: str | None = None
    retry_at: datetime | None = None


async def _settled(outcome: Outcome) -> Outcome:
    return outcome


def to_row(message: NewMessage, now: datetime) -> MessageLog:
    return MessageLog(
        msg_id=message.msg_id, session_id=message.session_id, openid=message.openid,
        template_id=message.template_id, msg_content=json.dumps(message.data, ensure_ascii=False),
        msg_status=message.state, error_detail=message.error_detail, kind=message.kind,
        dedupe_key=message.dedupe_key, attempts=0, next_attempt_at=message.not_before or now,
        page=message.page, order_id=message.order_id, title=message.title, summary=message.summary,
        created_at=now, company_id=message.company_id,
    )


class Outbox:
    def __init__(
        self, db: Database, wechat: WechatClient, config: OutboxConfig, clock: Clock = utc_now,
        delivery_log: DeliveryLog | None = None,
    ) -> None:
        self._db = db
        self._delivery_log = delivery_log
        self._wechat = wechat
        self._config = config
        self.clock = clock
        self.instance = new_id()[:16]
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._beat: asyncio.Task[None] | None = None
        self._stopping = False
        self.last_backlog = Backlog(0, 0, 0.0)  # refreshed by backlog(); read by the metrics gauge
        self.wechat = WechatReach()  # read by the health check
        self.settled: Counter[str] = Counter()  # outcomes this process recorded (sent, failed...): a metric

    # --- queueing ---------------------------------------------------------------------------

    async def enqueue(self, messages: list[NewMessage]) -> list[str]:
        """Queue ``messages``; one whose dedupe key is already queued or sent is dropped. Returns the new ids."""
        if not messages:
            return []
        # db.run: run again when the insert loses to a concurrent transaction (SQLite's "database
        # is locked", an InnoDB deadlock); a duplicate key is not retried but sorted out below.
        try:
            await self._db.run(partial(self.add_in, messages=messages))
            added = [m.msg_id for m in messages]
        except IntegrityError:  # a duplicate among them: queue one by one
            added = []
            for message in messages:
                try:
                    await self._db.run(partial(self.add_in, messages=[message]))
                    added.append(message.msg_id)
                except IntegrityError:
                    log.info("outbox: duplicate dedupe key dropped")
        self.wake()
        return added

    async def add_in(self, s: AsyncSession, messages: list[NewMessage]) -> None:
        """Queue within a caller's transaction (the watcher writes events and messages together)."""
        now = self.clock()
        s.add_all([to_row(m, now) for m in messages])
        await s.flush()

    def wake(self) -> None:
        self._wake.set()

    async def bindings(self, openids: list[str]) -> dict[str, Bound]:
        async with self._db.session() as s:
            return await current_bindings(s, openids)

    async def get(self, msg_id: str) -> MessageLog | None:
        async with self._db.session() as s:
            return await s.get(MessageLog, msg_id)

    async def wait_for(self, msg_id: str, timeout_s: float) -> MessageLog | None:
        """The row once final, or as it stands when ``timeout_s`` runs out."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while True:
            row = await self.get(msg_id)
            if row is None or row.msg_status in FINAL_STATES or asyncio.get_running_loop().time() >= deadline:
                return row
            await asyncio.sleep(0.05)

    # --- claiming ---------------------------------------------------------------------------

    async def claim(self, limit: int) -> list[MessageLog]:
        now = self.clock()
        token = f"{self.instance}:{new_id()[:12]}"
        due = (col(MessageLog.msg_status) == MessageState.QUEUED, col(MessageLog.next_attempt_at) <= now)
        async with self._db.session() as s:
            if self._db.dialect == "mysql":
                ids = list((await s.exec(
                    select(MessageLog.msg_id).where(*due).order_by(col(MessageLog.next_attempt_at))
                    .limit(limit).with_for_update(skip_locked=True)
                )).all())
                if not ids:
                    return []
                where = col(MessageLog.msg_id).in_(ids)
            else:
                where = col(MessageLog.msg_id).in_(
                    select(MessageLog.msg_id).where(*due).order_by(col(MessageLog.next_attempt_at)).limit(limit)
                )
            await s.exec(
                update(MessageLog).where(where, col(MessageLog.msg_status) == MessageState.QUEUED)
                .values(msg_status=MessageState.SENDING, claimed_by=token, claimed_at=now, attempts=MessageLog.attempts + 1)
            )
            rows = (await s.exec(select(MessageLog).where(MessageLog.claimed_by == token))).all()
        return list(rows)

    async def heartbeat(self) -> None:
        """This worker is alive: its rows in flight are its own to settle (and old heartbeats go)."""
        now = self.clock()
        await Lease(self._db, MEMBER + self.instance, self.instance, HEARTBEAT_TTL_S, clock=lambda: self.clock()).acquire()
        async with self._db.session() as s:
            await s.exec(delete(WorkerLease).where(
                col(WorkerLease.name).startswith(MEMBER), col(WorkerLease.expires_at) < now - FORGET_AFTER))

    async def settle_stale(self) -> int:
        """Rows left ``sending`` by a process that died mid-send, reconciled (see the module doc):
        at once when their claimer has no live heartbeat, after ``stale_s`` when it has one."""
        now = self.clock()
        cutoff = now - timedelta(seconds=self._config.stale_s)
        async with self._db.session() as s:
            sending = (await s.exec(
                select(MessageLog).where(MessageLog.msg_status == MessageState.SENDING,
                                         col(MessageLog.claimed_at) < now - timedelta(seconds=IN_FLIGHT_GRACE_S))
            )).all()
            live = set((await s.exec(select(WorkerLease.holder).where(
                col(WorkerLease.name).startswith(MEMBER), col(WorkerLease.expires_at) >= now))).all()) if sending else set()
        stale = [row for row in sending
                 if (aware(row.claimed_at) or now) < cutoff or (row.claimed_by or "").split(":")[0] not in live]
        results = [(row, await self._reconcile(row)) for row in stale]
        if results:
            await self._record(results)
            log.warning("outbox: %d message(s) interrupted mid-send reconciled: %s", len(results),
                        dict(Counter(str(outcome.state) for _, outcome in results)))
        return len(results)

    async def _reconcile(self, row: MessageLog) -> Outcome:
        if self._delivery_log is None:
            return Outcome(MessageState.UNKNOWN, None, "interrupted while sending; outcome unknown, not resent")
        try:
            msgid = await self._delivery_log.delivered(row)
        except CannotTell as error:
            return Outcome(MessageState.UNKNOWN, None, f"interrupted while sending; outcome unknown ({error}), not resent")
        if msgid is not None:
            return Outcome(MessageState.SENT, 0, "interrupted while sending; WeChat confirms delivery", msgid)
        return Outcome(MessageState.QUEUED, None, "interrupted before reaching WeChat; sent again", retry_at=self.clock())

    # --- sending ----------------------------------------------------------------------------

    @staticmethod
    def _not_theirs(row: MessageLog, bound: Bound | None) -> Outcome | None:
        """A skip when the recipient's current binding is not the one the message was for."""
        if row.company_id is None:
            if bound is None or bound.owns(None, row.created_at):
                return None  # sent on request to an unbound user, or from before 0008 and this binding's
            return Outcome(MessageState.SKIPPED, None, BEFORE_BINDING)
        if bound is None or not bound.owns(row.company_id, row.created_at):
            return Outcome(MessageState.SKIPPED, None, NOT_THEIRS)
        return None

    async def send_one(self, row: MessageLog) -> Outcome:
        try:
            data = json.loads(row.msg_content or "{}")
            msgid = await self._wechat.send_subscribe(
                row.openid or "", row.template_id, data, row.page,
                miniprogram_state=self._config.miniprogram_state,
            )
            return Outcome(MessageState.SENT, 0, None, str(msgid))
        except WxApiError as error:
            return self._classify(row, error.errcode, error.errmsg, error.ambiguous)
        except Exception as error:  # a bug or outage must not kill the worker
            log.exception("outbox: unexpected error sending a message")
            return self._classify(row, -1, type(error).__name__, False)

    def _classify(self, row: MessageLog, errcode: int, errmsg: str, ambiguous: bool) -> Outcome:
        if errcode == NO_GRANT:
            return Outcome(MessageState.SKIPPED, errcode, f"43101 用户未订阅或授权已用完: {errmsg}")
        if errcode in FAIL_AT_ONCE:
            return Outcome(MessageState.FAILED, errcode, f"{errcode}: {errmsg}")
        if ambiguous:
            return Outcome(MessageState.UNKNOWN, errcode, f"outcome unknown ({errmsg}); not resent to avoid a duplicate")
        config = self._config
        delay = min(config.retry_base_s * 2 ** min(row.attempts - 1, 30), config.retry_max_s)
        retry_at = self.clock() + timedelta(seconds=delay * random.uniform(0.8, 1.2))
        queued_at = aware(row.created_at) or self.clock()
        if retry_at - queued_at > timedelta(seconds=config.retry_for_s):
            return Outcome(MessageState.FAILED, errcode, f"gave up after {row.attempts} attempts: {errcode} {errmsg}")
        return Outcome(MessageState.QUEUED, errcode, f"retrying: {errcode} {errmsg}", retry_at=retry_at)

    def _observe(self, results: list[tuple[MessageLog, Outcome]]) -> None:
        """WeChat unreachable (a send put back for a retry) or answering (anything it decided)."""
        now = self.clock()
        for _, outcome in results:
            if outcome.state == MessageState.QUEUED and outcome.errcode is not None:
                self.wechat.failed(now, outcome.errcode, outcome.detail)
            elif outcome.errcode is not None or outcome.state == MessageState.SENT:
                self.wechat.answered(now)

    async def _record(self, results: list[tuple[MessageLog, Outcome]]) -> None:
        now = self.clock()
        settled: list[MessageState] = []
        async with self._db.session() as s:
            for row, outcome in results:
                values: dict[str, Any] = {"msg_status": outcome.state, "wx_errcode": outcome.errcode,
                                          "error_detail": outcome.detail}
                if outcome.state == MessageState.SENT:
                    values.update(sent_at=now, wx_msgid=outcome.msgid)
                elif outcome.state == MessageState.QUEUED:
                    values.update(next_attempt_at=outcome.retry_at, claimed_by=None)
                recorded = await s.exec(
                    update(MessageLog)  # still ours and in flight: two reconcilers never both settle a row
                    .where(col(MessageLog.msg_id) == row.msg_id, col(MessageLog.claimed_by) == row.claimed_by,
                           col(MessageLog.msg_status) == MessageState.SENDING)
                    .values(**values)
                )
                if not recorded.rowcount:
                    continue
                settled.append(outcome.state)
                if outcome.state == MessageState.SENT:
                    await grants.spend(s, row.openid or "", row.template_id, self.clock)
                elif outcome.state == MessageState.SKIPPED and outcome.errcode == NO_GRANT:
                    await grants.zero(s, row.openid or "", row.template_id, self.clock)
        self.settled.update(state.value for state in settled)  # once committed

    async def backlog(self) -> Backlog:
        """What waits: queued and sending rows, and how late the most overdue queued one is."""
        now = self.clock()
        async with self._db.session() as s:
            counts = dict(
                (await s.exec(
                    select(MessageLog.msg_status, func.count())
                    .where(col(MessageLog.msg_status).in_([MessageState.QUEUED, MessageState.SENDING]))
                    .group_by(MessageLog.msg_status)
                )).all()
            )
            oldest = (await s.exec(
                select(func.min(MessageLog.next_attempt_at)).where(
                    MessageLog.msg_status == MessageState.QUEUED, col(MessageLog.next_attempt_at) <= now
                )
            )).one()
            # Tried and put back: waiting since it was queued (a message held for quiet hours that
            # then failed counts from its queueing too: an overstatement only while WeChat fails).
            retried = (await s.exec(
                select(func.min(MessageLog.created_at)).where(
                    MessageLog.msg_status == MessageState.QUEUED, col(MessageLog.attempts) > 0
                )
            )).one()
        lag = max(0.0, (now - aware(oldest)).total_seconds()) if oldest else 0.0
        waited = max(0.0, (now - aware(retried)).total_seconds()) if retried else 0.0
        self.last_backlog = Backlog(
            int(counts.get(MessageState.QUEUED, 0)), int(counts.get(MessageState.SENDING, 0)), lag, max(lag, waited))
        return self.last_backlog

    async def drain_once(self) -> int:
        """Claim what is due (no more than can be sent at once), send it, record the outcomes."""
        rows = await self.claim(max(1, min(self._config.batch, self._config.concurrency)))
        if not rows:
            return 0
        bound = await self.bindings([row.openid or "" for row in rows])
        mismatched = {row.msg_id: self._not_theirs(row, bound.get(row.openid or "")) for row in rows}
        outcomes = await asyncio.gather(*(
            _settled(skip) if (skip := mismatched[row.msg_id]) else self.send_one(row) for row in rows))
        results = list(zip(rows, outcomes, strict=True))
        self._observe(results)
        await self._record(results)
        return len(rows)

    # --- the worker -------------------------------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="outbox-worker")
            self._beat = asyncio.create_task(self._beating(), name="outbox-heartbeat")

    async def stop(self) -> None:
        """Finish the batch in flight (so nothing is left ``sending``), then stop."""
        if self._task is None:
            return
        self._stopping = True
        self._wake.set()
        with contextlib.suppress(TimeoutError, asyncio.CancelledError):
            await asyncio.wait_for(self._task, timeout=10)
        self._task = None
        if self._beat is not None:
            self._beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat
            self._beat = None

    async def _beating(self) -> None:
        """The heartbeat, in a task of its own: a drain waiting on WeChat's timeouts does not stop it."""
        while True:
            try:
                await self.heartbeat()
            except Exception:  # the database away: the next beat tries again
                log.debug("outbox: heartbeat failed", exc_info=True)
            await asyncio.sleep(HEARTBEAT_S)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        next_settle = 0.0
        with contextlib.suppress(Exception):  # alive before the first claim (the beat task repeats it)
            await self.heartbeat()
        while not self._stopping:
            self._wake.clear()  # before the claim: a message queued during the drain wakes the next wait
            try:
                if loop.time() >= next_settle:
                    await self.settle_stale()
                    await self.backlog()  # keeps the depth gauge current
                    next_settle = loop.time() + SETTLE_EVERY_S
                sent = await self.drain_once()
            except DatabaseUnavailable:  # logged once per outage by the database: try again
                sent = 0
            except Exception:  # try again
                log.exception("outbox: drain failed")
                sent = 0
            if sent:
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._config.poll_s)
