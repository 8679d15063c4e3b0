"""A lease in the database: one BFF instance at a time runs a singleton job (the watcher).

The holder renews it every cycle; when it dies the lease expires and another instance
takes it over. Claiming is one conditional UPDATE (atomic on SQLite and MySQL alike).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import or_, update
from sqlalchemy.exc import IntegrityError
from sqlmodel import col

from bff.core.clock import Clock, utc_now
from bff.store.db import Database
from bff.store.tables import WorkerLease


class Lease:
    def __init__(self, db: Database, name: str, holder: str, ttl_s: float, clock: Clock = utc_now) -> None:
        self._db = db
        self.name = name
        self.holder = holder
        self.ttl = timedelta(seconds=ttl_s)
        self.clock = clock

    async def acquire(self) -> bool:
        """True when this instance holds the lease now (taken, renewed or taken over)."""
        now = self.clock()
        async with self._db.session() as s:
            taken = await s.exec(
                update(WorkerLease)
                .where(col(WorkerLease.name) == self.name,
                       or_(col(WorkerLease.holder) == self.holder, col(WorkerLease.expires_at) < now))
                .values(holder=self.holder, expires_at=now + self.ttl)
            )
            if taken.rowcount:
                return True
        try:
            async with self._db.session() as s:
                s.add(WorkerLease(name=self.name, holder=self.holder, expires_at=now + self.ttl))
            return True
        except IntegrityError:
            return False  # someone else holds it

    async def release(self) -> None:
        async with self._db.session() as s:
            await s.exec(
                update(WorkerLease)
                .where(col(WorkerLease.name) == self.name, col(WorkerLease.holder) == self.holder)
                .values(expires_at=self.clock() - timedelta(seconds=1))
            )
