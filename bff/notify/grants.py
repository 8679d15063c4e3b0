"""Grants per (user, template): one accepted wx.requestSubscribeMessage allows one send.

Counted here so the watcher only queues messages a user can receive; WeChat stays the
judge (43101 zeroes the count). A grant is spent only by a message WeChat accepted.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
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
        """One more grant for each accepted template id (repeats count: each accept is a send)."""
        for template_id in template_ids:
            for _ in range(2):  # a concurrent first insert loses the race once, then updates
                try:
                    async with self._db.session() as s:
                        bumped = await s.exec(
                            update(SubscriptionGrant)
                            .where(col(SubscriptionGrant.openid) == openid, col(SubscriptionGrant.template_id) == template_id)
                            .values(remaining=SubscriptionGrant.remaining + 1, updated_at=self.clock())
                        )
                        if bumped.rowcount == 0:
                            s.add(SubscriptionGrant(openid=openid, template_id=template_id, remaining=1, updated_at=self.clock()))
                    break
                except IntegrityError:
                    continue

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
