"""The orders each user follows (订阅此订单). The watcher spends a user's grants only on changes
of orders they follow, or of every order when they chose 订阅全部订单 (``Preferences.follow_all``)."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import bindparam, delete
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.core.clock import Clock, utc_now
from bff.store.db import Database
from bff.store.tables import OrderFollow


class Follows:
    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self.clock = clock

    async def change(self, openid: str, order_id: str, follow: bool) -> bool:
        """Follow (or stop following) an order the caller proved their company's; answers the new state.
        A concurrent identical follow (duplicate key) or a deadlock runs the change again: the
        second time the row is there (or gone), and nothing is left to write."""

        async def change(s: AsyncSession) -> None:
            if follow:
                if await s.get(OrderFollow, (openid, order_id)) is None:
                    s.add(OrderFollow(openid=openid, order_id=order_id, followed_at=self.clock()))
            else:
                await s.exec(delete(OrderFollow).where(
                    col(OrderFollow.openid) == openid, col(OrderFollow.order_id) == order_id))

        await self._db.run(change, conflicts=True)
        return follow


# Built once: making an IN clause of ORM columns costs more CPU than running the query.
_FOLLOWERS = select(OrderFollow.openid, OrderFollow.order_id).where(
    col(OrderFollow.openid).in_(bindparam("openids", expanding=True)),
    col(OrderFollow.order_id).in_(bindparam("order_ids", expanding=True)),
)


async def followers(conn: AsyncConnection, openids: Iterable[str], order_ids: Iterable[str]) -> set[tuple[str, str]]:
    """(openid, order id) pairs among these users and orders: one query (the watcher's, per
    customer; an order page's, for one user)."""
    users, orders = sorted(set(openids)), sorted(set(order_ids))
    if not users or not orders:
        return set()
    rows = await conn.execute(_FOLLOWERS, {"openids": users, "order_ids": orders})
    return {(openid, order_id) for openid, order_id in rows}
