"""Deleting a user's account on their request (``deleteMyAccount``; docs/privacy.md says what
is removed and what remains, and why).

One transaction removes everything the BFF keeps of the user: the WeChat user row (nickname,
avatar link), every session, every company binding (with the ERP account it was made with), the
followed orders, the subscription grants, the notification settings, the message centre (queued
notifications included: none is sent afterwards), the avatar picture and an administrator's /admin logins. The call logs of their
sessions are kept for the operators' figures, anonymised: no session id, no request or answer
text. Afterwards the viewer cache is told, so no kept viewer outlives the deletion.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import col, delete, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.auth.admin_sessions import USER as ADMIN_BY_USER
from bff.auth.viewers import ViewerCache
from bff.store.db import Database
from bff.store.tables import (
    AdminSession,
    ApiCallLog,
    AvatarImage,
    ErpBinding,
    MessageLog,
    NotifyPreference,
    OrderFollow,
    SubscriptionGrant,
    UserSession,
    WxUser,
)

# The tables keyed by the user's openid, all removed.
BY_OPENID = (UserSession, ErpBinding, OrderFollow, SubscriptionGrant, NotifyPreference, MessageLog, AvatarImage, WxUser)


@dataclass(frozen=True)
class Deleted:
    """Rows removed per table, and call log rows anonymised."""

    removed: dict[str, int]
    anonymised_logs: int


class AccountDeletion:
    def __init__(self, db: Database, viewers: ViewerCache) -> None:
        self._db = db
        self._viewers = viewers

    async def delete(self, openid: str, extra_session_ids: tuple[str, ...] = ()) -> Deleted:
        """``extra_session_ids``: session ids the call logs may carry without a session row
        (WeChat Cloud Run's trusted-header viewer)."""

        async def remove(s: AsyncSession) -> Deleted:
            sessions = (await s.exec(select(UserSession.session_id).where(col(UserSession.openid) == openid))).all()
            logged = [*sessions, *extra_session_ids]
            anonymised = 0
            if logged:
                result = await s.exec(
                    update(ApiCallLog).where(col(ApiCallLog.session_id).in_(logged))
                    .values(session_id=None, request_params=None, response_data=None)
                )
                anonymised = int(result.rowcount or 0)
            removed = {}
            for table in BY_OPENID:
                result = await s.exec(delete(table).where(col(table.openid) == openid))
                removed[table.__tablename__] = int(result.rowcount or 0)
            # An administrator's /admin logins name them (and end with their sessions anyway).
            result = await s.exec(delete(AdminSession).where(col(AdminSession.kind) == ADMIN_BY_USER,
                                                             col(AdminSession.principal) == openid))
            removed[AdminSession.__tablename__] = int(result.rowcount or 0)
            return Deleted(removed, anonymised)

        deleted = await self._db.run(remove)
        await self._viewers.changed(openid)
        return deleted
