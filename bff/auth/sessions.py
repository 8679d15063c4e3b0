"""BFF sessions: issued after a WeChat login, renewed while used, revocable.

The bearer token is shown once; the database keeps only its HMAC as ``session_id``.
WeChat's ``session_key`` is stored encrypted and never leaves the server.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, true
from sqlmodel import col, func, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.auth.binding import binding_from_row
from bff.auth.viewers import ViewerCache
from bff.core.clock import aware
from bff.core.domain import Binding, LoginResult, Viewer
from bff.core.security import DataCipher, SecretKeys, new_token
from bff.store.db import Database, DatabaseUnavailable
from bff.store.tables import ErpBinding, UserSession, WxUser


def utcnow() -> datetime:
    return datetime.now(UTC)


class SessionService:
    def __init__(
        self,
        db: Database,
        cipher: DataCipher,
        viewers: ViewerCache,
        *,
        secret_keys: SecretKeys,
        ttl: timedelta,
        max_age: timedelta | None = None,
    ) -> None:
        self._db = db
        self.viewers = viewers
        # Session reads under way, by session, with the viewer epoch each began under: a mini
        # program opening sends several requests at once, and one read serves them all.
        self._reading: dict[str, tuple[object, asyncio.Task[Viewer | None]]] = {}
        self._cipher = cipher
        self._keys = secret_keys
        self._ttl = ttl
        self._max_age = max_age or ttl * 4  # absolute lifetime: renewals never go past it

    def session_id_for(self, token: str) -> str:
        return self._keys.digest(token)

    async def upsert_user(
        self, openid: str, unionid: str | None, nickname: str | None = None, avatar_url: str | None = None
    ) -> WxUser:
        now = utcnow()

        async def upsert(s: AsyncSession) -> WxUser:
            user = await s.get(WxUser, openid)
            if user is None:
                user = WxUser(openid=openid, unionid=unionid, created_at=now, updated_at=now)
            user.unionid = unionid or user.unionid
            user.nickname = nickname or user.nickname
            user.avatar_url = avatar_url or user.avatar_url
            user.updated_at = now
            s.add(user)
            return user

        # A user's first logins in parallel race to insert the row: the losers update it instead.
        user = await self._db.run(upsert, conflicts=True)
        if nickname or avatar_url:
            await self.viewers.changed(openid)  # the user's other sessions show the new profile
        return user

    async def create(
        self,
        openid: str,
        unionid: str | None,
        session_key: str | None,
        *,
        source: str = "code",
        nickname: str | None = None,
        avatar_url: str | None = None,
    ) -> LoginResult:
        user = await self.upsert_user(openid, unionid, nickname, avatar_url)
        token = new_token()
        now = utcnow()
        row = UserSession(
            session_id=self.session_id_for(token),
            openid=openid,
            session_key=self._cipher.encrypt(session_key) if session_key else None,
            unionid=unionid,
            created_at=now,
            expires_at=now + min(self._ttl, self._max_age),
            last_seen_at=now,
            login_source=source,
        )
        async with self._db.session() as s:
            s.add(row)
        viewer = Viewer(
            openid=openid,
            session_id=row.session_id,
            unionid=unionid,
            expires_at=row.expires_at,
            nickname=user.nickname,
            avatar_url=user.avatar_url,
            login_source=source,
        )
        return LoginResult(token=token, openid=openid, unionid=unionid, expires_at=row.expires_at, viewer=viewer)

    async def authenticate(self, token: str) -> Viewer | None:
        """The viewer behind a bearer token, with their binding (the hot path of every request):
        kept for a few seconds per session while nothing about the user changed, else read.

        Requests of one session that arrive while its read is under way wait for that read,
        but only if no viewer changed since it began (same epoch): a request sent after a
        logout or a revocation answered never gets a viewer read before it."""
        found = await self.by_session_id(self.session_id_for(token))
        if found is None and await self._rekeyed(token):
            return await self.authenticate(token)
        return found

    async def by_session_id(self, session_id: str) -> Viewer | None:
        """:meth:`authenticate` from the stored digest of the token (an /admin session, which
        keeps that digest, never the token, asks whether its administrator's session stands)."""
        viewer = await self.viewers.get(session_id)
        if viewer is not None:
            return viewer
        epoch = await self.viewers.epoch()
        under_way = self._reading.get(session_id)
        if under_way is not None and self.viewers.known(epoch) and under_way[0] == epoch:
            reading = under_way[1]
        elif (viewer := await self.viewers.get(session_id)) is not None:
            return viewer  # kept by a read that ended while this request read the epoch
        else:
            reading = asyncio.ensure_future(self._read_and_keep(session_id, epoch))
            if self.viewers.known(epoch):
                self._reading[session_id] = (epoch, reading)
                reading.add_done_callback(lambda done: self._read_done(session_id, done))
        try:
            found = await asyncio.shield(reading)  # a request cancelled while waiting leaves it to the others
        except DatabaseUnavailable:
            recalled = await self.viewers.recall(session_id)  # seen in the last minutes: reads from the ERP go on
            if recalled is None:
                raise
            return recalled
        return None if found is None else replace(found)  # each request may set its own binding

    async def _rekeyed(self, token: str) -> bool:
        """During a rotation of BFF_SECRET_KEY: a session stored under the previous key's digest
        is moved to the current one (once), so nobody is logged out by the rotation."""
        earlier = self._keys.earlier_digest(token)
        if earlier is None:
            return False
        async with self._db.session() as s:
            moved = await s.exec(
                update(UserSession).where(col(UserSession.session_id) == earlier).values(session_id=self.session_id_for(token)))
        return bool(moved.rowcount)

    def _read_done(self, session_id: str, done: asyncio.Task[Viewer | None]) -> None:
        if self._reading.get(session_id, (None, None))[1] is done:
            del self._reading[session_id]
        if not done.cancelled():
            done.exception()  # retrieved: every waiter may have gone

    async def _read_and_keep(self, session_id: str, epoch: object) -> Viewer | None:
        found = await self._read(session_id)
        if found is None:
            return None
        viewer, keep_s = found
        await self.viewers.keep(session_id, viewer, epoch, keep_s)
        return viewer

    async def _read(self, session_id: str) -> tuple[Viewer, float] | None:
        """The viewer of a session in one query, and how long it may be kept: until its renewal
        is due. The session is renewed when half its life is gone, never past its absolute
        lifetime. A session whose user row is gone is no session."""
        now = utcnow()
        async with self._db.session() as s:
            found = (await s.exec(
                select(UserSession, WxUser, ErpBinding)
                .outerjoin(WxUser, col(WxUser.openid) == col(UserSession.openid))
                .outerjoin(ErpBinding, and_(col(ErpBinding.openid) == col(UserSession.openid), col(ErpBinding.is_valid) == True))  # noqa: E712
                .where(UserSession.session_id == session_id)
                .order_by(col(ErpBinding.bound_at).desc())
                .limit(1)
            )).first()
            if found is None:
                return None
            row, user, binding = found
            if user is None or not row.is_active or aware(row.expires_at) <= now:
                return None
            end_of_life = aware(row.created_at) + self._max_age
            if now >= end_of_life:
                return None
            if aware(row.expires_at) - now < self._ttl / 2 and aware(row.expires_at) < end_of_life:
                row.expires_at = min(now + self._ttl, end_of_life)  # 登录态自动续期, one write per half-life
                row.last_seen_at = now
                s.add(row)
                # No viewer change to announce: every instance keeps this session's viewer only
                # until its renewal point, which has passed (and renewal changes no other session).
        expires_at = aware(row.expires_at)
        renew_at = expires_at - self._ttl / 2 if expires_at < end_of_life else expires_at
        return Viewer(
            openid=row.openid,
            session_id=row.session_id,
            unionid=row.unionid,
            expires_at=row.expires_at,
            nickname=user.nickname,
            avatar_url=user.avatar_url,
            binding=binding_from_row(binding) if binding else None,
            login_source=row.login_source,
        ), (renew_at - now).total_seconds()

    def trusted_session_id(self, openid: str) -> str:
        """The session id a trusted-header viewer is kept and logged under (no session row)."""
        return "wxh-" + self._keys.digest(openid)[:60]

    async def viewer_for_trusted_openid(
        self, openid: str, unionid: str | None, binding_of: Callable[[str], Awaitable[Binding | None]]
    ) -> Viewer:
        """WeChat Cloud Run mode: the platform vouches for the openid; no BFF session row is
        needed. The viewer (user and binding) is kept like a session's, so a burst costs one
        user upsert and one binding read, not one of each per request."""
        session_id = self.trusted_session_id(openid)
        kept = await self.viewers.get(session_id)
        if kept is not None and (unionid is None or kept.unionid == unionid):
            return kept
        epoch = await self.viewers.epoch()
        user = await self.upsert_user(openid, unionid)
        viewer = Viewer(
            openid=openid,
            session_id=session_id,
            unionid=user.unionid,
            expires_at=utcnow() + self._ttl,
            nickname=user.nickname,
            avatar_url=user.avatar_url,
            binding=await binding_of(openid),
            login_source="wx_header",
        )
        await self.viewers.keep(session_id, viewer, epoch, self._ttl.total_seconds())
        return viewer

    async def update_profile(self, openid: str, nickname: str | None, avatar_url: str | None) -> WxUser:
        async with self._db.session() as s:
            user = await s.get(WxUser, openid)
            if user is None:
                raise LookupError(openid)
            if nickname is not None:
                user.nickname = nickname
            if avatar_url is not None:
                user.avatar_url = avatar_url
            user.updated_at = utcnow()
            s.add(user)
        await self.viewers.changed(openid)
        return user

    async def logout(self, viewer: Viewer) -> bool:
        async with self._db.session() as s:
            result = await s.exec(
                update(UserSession).where(col(UserSession.session_id) == viewer.session_id).values(is_active=False)
            )
        if result.rowcount:
            await self.viewers.changed(viewer.openid)
        return bool(result.rowcount)

    async def revoke_all(self, openid: str) -> int:
        async with self._db.session() as s:
            result = await s.exec(
                update(UserSession)
                .where(col(UserSession.openid) == openid, col(UserSession.is_active) == true())
                .values(is_active=False)
            )
        if result.rowcount:
            await self.viewers.changed(openid)
        return int(result.rowcount or 0)

    async def people(self, openids: list[str]) -> dict[str, tuple[str | None, int]]:
        """Nickname and number of live sessions of each user (administrators' user list)."""
        if not openids:
            return {}
        now = utcnow()
        async with self._db.session() as s:
            users = (await s.exec(select(WxUser).where(col(WxUser.openid).in_(openids)))).all()
            rows = (
                await s.exec(
                    select(UserSession.openid, func.count())
                    .where(col(UserSession.openid).in_(openids), col(UserSession.is_active) == True, col(UserSession.expires_at) > now)  # noqa: E712
                    .group_by(UserSession.openid)
                )
            ).all()
        counts = {openid: int(n) for openid, n in rows}
        nicknames = {u.openid: u.nickname for u in users}
        return {o: (nicknames.get(o), counts.get(o, 0)) for o in openids}

    async def session_key(self, session_id: str) -> str | None:
        """Decrypted session_key, for decrypting data the mini program sends later."""
        async with self._db.session() as s:
            row = (await s.exec(select(UserSession).where(UserSession.session_id == session_id))).first()
        if row is None or row.session_key is None:
            return None
        return self._cipher.decrypt(row.session_key)
