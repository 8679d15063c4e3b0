"""A user's notification settings: kinds on or off, and a do-not-disturb window in Beijing time."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.core.clock import Clock, utc_now
from bff.notify.render import CHINA
from bff.notify.templates import USER_KINDS, EventKind
from bff.store.db import Database
from bff.store.tables import NotifyPreference

HHMM = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$")


@dataclass(frozen=True)
class Preferences:
    disabled: frozenset[EventKind] = field(default_factory=frozenset)
    dnd_start: str | None = None
    dnd_end: str | None = None
    follow_all: bool = False  # 订阅全部订单: every order of the company, not only the followed ones

    def allows(self, kind: EventKind | str) -> bool:
        return kind not in self.disabled

    def quiet_until(self, now: datetime) -> datetime | None:
        """The end of the do-not-disturb window if ``now`` falls inside it, else None."""
        if not self.dnd_start or not self.dnd_end or self.dnd_start == self.dnd_end:
            return None
        local = now.astimezone(CHINA)
        start, end = _time(self.dnd_start), _time(self.dnd_end)
        at = local.time()
        if start < end:
            inside = start <= at < end
            end_day = local.date()
        else:  # across midnight, e.g. 22:00-08:00
            inside = at >= start or at < end
            end_day = local.date() + timedelta(days=1) if at >= start else local.date()
        if not inside:
            return None
        return datetime.combine(end_day, end, tzinfo=CHINA)


def _time(text: str) -> time:
    hour, minute = text.split(":")
    return time(int(hour), int(minute))


def valid_hhmm(text: str | None) -> bool:
    return text is None or HHMM.match(text) is not None


class PreferenceStore:
    def __init__(self, db: Database, clock: Clock = utc_now) -> None:
        self._db = db
        self.clock = clock

    async def get(self, openid: str) -> Preferences:
        return (await self.get_many([openid])).get(openid, Preferences())

    async def get_many(self, openids: list[str]) -> dict[str, Preferences]:
        if not openids:
            return {}
        async with self._db.session() as s:
            rows = (await s.exec(select(NotifyPreference).where(col(NotifyPreference.openid).in_(sorted(set(openids)))))).all()
        return {row.openid: _from_row(row) for row in rows}

    async def save(self, openid: str, prefs: Preferences) -> Preferences:
        disabled = ",".join(sorted(k.value for k in prefs.disabled if k in USER_KINDS))

        async def save(s: AsyncSession) -> NotifyPreference:
            row = await s.get(NotifyPreference, openid)
            if row is None:
                row = NotifyPreference(openid=openid, updated_at=self.clock())
            row.disabled_kinds, row.dnd_start, row.dnd_end = disabled, prefs.dnd_start, prefs.dnd_end
            row.follow_all = prefs.follow_all
            row.updated_at = self.clock()
            s.add(row)
            return row

        # A user's concurrent first saves race to insert the row: the loser runs again and updates it.
        return _from_row(await self._db.run(save, conflicts=True))


def _from_row(row: NotifyPreference) -> Preferences:
    kinds = frozenset(EventKind(k) for k in row.disabled_kinds.split(",") if k in EventKind._value2member_map_)
    return Preferences(kinds, row.dnd_start, row.dnd_end, bool(row.follow_all))
