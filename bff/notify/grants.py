"""Grants per (user, template): one accepted wx.requestSubscribeMessage allows one send.

Counted here so the watcher only queues messages a user can receive; WeChat stays the
judge (43101 zeroes the count). A grant is spent only by a message WeChat accepted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import update
from sqlalchemy.dialects.mysql import insert as mysql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql.dml import UpdateBase
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.core.clock import Clock, utc_now
from bff.store.db import Database
from bff.store.tables import SubscriptionGrant


class Grants:
    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self.clock = clock

    async def add(self, openid: str, template_ids: Iterable[str]) -> None:
        """One more grant for each accepted template id (repeats count: each accept is a send).

        One upsert statement: an UPDATE of a missing row followed by an INSERT took InnoDB gap
        locks that concurrent first accepts deadlocked on (4 of 200 at once). A deadlock or lock
        wait left (a duplicate key on SQLite's older paths) is run again by ``Database.run``."""
        accepted = Counter(template_ids)
        if not accepted:
            return
        now = self.clock()
        rows = [{"openid": openid, "template_id": t, "remaining": n, "updated_at": now} for t, n in sorted(accepted.items())]

        async def upsert(s: AsyncSession) -> None:
            await s.exec(_upsert(self._db.dialect, rows))

        await self._db.run(upsert, conflicts=True)

    async def remaining(self, openid: str) -> dict[str, int]:
        async with self._db.session() as s:
            rows = (await s.exec(select(SubscriptionGrant).where(SubscriptionGrant.openid == openid))).all()
        return {row.template_id: row.remaining for row in rows}

    async def holders(self, openids: Iterable[str], template_id: str) -> set[str]:
        ids = sorted(set(openids))
        if not ids:
            return set()
        async with self._db.session() as s:
            rows = (await s.exec(select(SubscriptionGrant.openid).where(
                col(SubscriptionGrant.openid).in_(ids),
                SubscriptionGrant.template_id == template_id,
                SubscriptionGrant.remaining > 0,
            ))).all()
        return set(rows)


def _upsert(dialect: str, rows: list[dict[str, Any]]) -> UpdateBase:
    """INSERT these grants, or add their counts to the rows already there."""
    table = SubscriptionGrant.__table__  # type: ignore[attr-defined]
    if dialect == "mysql":
        mine = mysql_insert(table).values(rows)
        return mine.on_duplicate_key_update(
            remaining=table.c.remaining + mine.inserted.remaining, updated_at=mine.inserted.updated_at)
    lite = sqlite_insert(table).values(rows)
    return lite.on_conflict_do_update(
        index_elements=["openid", "template_id"],
        set_={"remaining": table.c.remaining + lite.excluded.remaining, "updated_at": lite.excluded.updated_at})


async def spend(s: AsyncSession, openid: str, template_id: str, clock: Clock) -> None:
    """One grant used by a sent message (never below zero: WeChat may know of grants we missed)."""
    await s.exec(
        update(SubscriptionGrant)
        .where(col(SubscriptionGrant.openid) == openid, col(SubscriptionGrant.template_id) == template_id,
               col(SubscriptionGrant.remaining) > 0)
        .values(remaining=SubscriptionGrant.remaining - 1, updated_at=clock())
    )


async def zero(s: AsyncSession, openid: str, template_id: str, clock: Clock) -> None:
    """WeChat said 43101: the user has no grant left (or switched the template off)."""
    await s.exec(
        update(SubscriptionGrant)
        .where(col(SubscriptionGrant.openid) == openid, col(SubscriptionGrant.template_id) == template_id)
        .values(remaining=0, updated_at=clock())
    )
