"""The change watcher's work shared across BFF instances: the bound customers fall into
``count`` partitions (a stable hash of the customer id), each a :class:`Lease` row.

Every live watcher keeps a heartbeat row (``order-watcher:member:<holder>``) and holds at most
its fair share, ceil(partitions / live watchers): it renews what it holds, gives back what is
above its share (a newcomer takes it on its next tick) and claims free or expired partitions
up to its share. A partition is claimed with the lease's conditional UPDATE, so two instances
never hold one partition at once. A dead holder's partitions expire after ``ttl`` (≤ 30 s) and
are claimed by the next tick of a live instance. A holder that could not renew stops by its
own clock: :meth:`holds` is false once its last renewal is ``ttl`` old, so a lease never
outlives the work done under it.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from bff.core.clock import Clock, aware, utc_now
from bff.notify.lease import Lease
from bff.store.db import Database
from bff.store.tables import WorkerLease

PREFIX = "order-watcher:"
MEMBER = PREFIX + "member:"


def partition_of(customer_id: str, count: int) -> int:
    """Stable across processes and restarts (not Python's salted ``hash``)."""
    return int(hashlib.sha1(customer_id.encode()).hexdigest()[:8], 16) % count


class Partitions:
    def __init__(self, db: Database, holder: str, count: int, ttl_s: float, clock: Clock = utc_now) -> None:
        self._db = db
        self.holder = holder
        self.count = count
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock
        self._held: set[int] = set()
        self._valid_until: datetime | None = None  # last successful renewal + ttl, by our clock
        self._renewed_at: datetime | None = None
        self._ticking = asyncio.Lock()  # the loop and a caller of run_cycle: one tick at a time

    def name(self, partition: int) -> str:
        return f"{PREFIX}{self.count}:{partition}"

    def _lease(self, name: str) -> Lease:
        return Lease(self._db, name, self.holder, self.ttl.total_seconds(), clock=lambda: self.clock())

    def holds(self) -> set[int]:
        """The partitions this instance may work on now: held, and renewed less than ``ttl`` ago."""
        if self._valid_until is None or self.clock() >= self._valid_until:
            return set()
        return set(self._held)

    def renewal_due(self, every: timedelta) -> bool:
        return self._renewed_at is None or self.clock() - self._renewed_at >= every

    async def tick(self) -> set[int]:
        """Heartbeat, renew, give back the surplus, claim up to the fair share; the partitions held."""
        async with self._ticking:
            return await self._tick()

    async def _tick(self) -> set[int]:
        now = self.clock()
        names = {self.name(p): p for p in range(self.count)}
        try:
            await self._lease(MEMBER + self.holder).acquire()  # always ours: the heartbeat
            async with self._db.session() as s:
                # Heartbeats of instances gone for a while: forgotten, so they count no longer.
                await s.exec(delete(WorkerLease).where(
                    col(WorkerLease.name).startswith(MEMBER), col(WorkerLease.expires_at) < now - self.ttl))
                rows = (await s.exec(select(WorkerLease).where(col(WorkerLease.name).startswith(PREFIX)))).all()
            live = {r.name: (r.holder, aware(r.expires_at)) for r in rows if aware(r.expires_at) >= now}
            members = sum(1 for name in live if name.startswith(MEMBER))
            share = math.ceil(self.count / max(1, members))
            mine = sorted(p for name, p in names.items() if live.get(name, ("", now))[0] == self.holder)
            keep, surplus = mine[:share], mine[share:]
            async with self._db.session() as s:
                if keep:  # one statement renews all we keep (only while still ours)
                    await s.exec(update(WorkerLease).where(
                        col(WorkerLease.name).in_([self.name(p) for p in keep]), col(WorkerLease.holder) == self.holder,
                    ).values(expires_at=now + self.ttl))
                if surplus:  # above our share: another live instance takes them on its next tick
                    await s.exec(update(WorkerLease).where(
                        col(WorkerLease.name).in_([self.name(p) for p in surplus]), col(WorkerLease.holder) == self.holder,
                    ).values(expires_at=now - timedelta(seconds=1)))
            held = set(keep)
            free = [p for name, p in names.items() if name not in live]
            # Start at a place of our own, so instances starting together rarely contend.
            offset = int(hashlib.sha1(self.holder.encode()).hexdigest()[:8], 16) % self.count
            free.sort(key=lambda p: (p - offset) % self.count)
            for partition in free:
                if len(held) >= share:
                    break
                if await self._lease(self.name(partition)).acquire():
                    held.add(partition)
        except Exception:
            self._held = set(self.holds())  # unchanged, and still ending by our own clock
            raise
        self._held, self._renewed_at, self._valid_until = held, now, now + self.ttl
        return set(held)

    async def release(self) -> None:
        """Give every partition and the heartbeat back, so a live instance takes over at once."""
        self._held, self._valid_until = set(), None
        past = self.clock() - timedelta(seconds=1)
        async with self._db.session() as s:
            await s.exec(update(WorkerLease).where(
                col(WorkerLease.name).startswith(PREFIX), col(WorkerLease.holder) == self.holder,
            ).values(expires_at=past))
