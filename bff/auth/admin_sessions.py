"""/admin logins kept on the server (issue 19): the cookie names a row, it holds no credential.

``/admin/login`` takes BFF_ADMIN_TOKEN or an administrator's session token once; the browser
gets a random id (``new_token()``: 256 random bits) and the table ``admin_sessions`` keeps only its
SHA-256 (256 random bits need no key), who logged in, when, from where, and until when
(``BFF_ADMIN_SESSION_HOURS``, fixed: no renewal). Each /admin request finds the row and checks
that it is neither expired nor revoked and that what opened it still stands: the same
BFF_ADMIN_TOKEN (rotating it ends its sessions), or the administrator's session, still live and
still bound as an administrator (a demoted, unbound or logged-out administrator is out at once).
Logout revokes the row, so a copied cookie is worthless afterwards; administrators can revoke
any listed session. Expired rows are deleted at each login.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlmodel import col, select

from bff.auth.sessions import SessionService
from bff.core.clock import Clock, aware, utc_now
from bff.core.domain import Permission
from bff.core.security import SecretKeys, new_token, same_secret
from bff.store.db import Database
from bff.store.tables import AdminSession

TOKEN = "token"  # opened with BFF_ADMIN_TOKEN
USER = "user"  # opened with an administrator's session token
TOKEN_PRINCIPAL = "admin token"
SEEN_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per session
USER_AGENT_MAX = 200


def id_hash(raw_id: str) -> str:
    return hashlib.sha256(raw_id.encode()).hexdigest()


@dataclass(frozen=True)
class AdminLogin:
    """Who is logging in: the admin token, or an administrator's session (its stored id)."""

    kind: str
    principal: str
    credential: str  # SecretKeys.digest of the admin token, or the user session's id (the same digest of its token)


@dataclass(frozen=True)
class ActiveAdminSession:
    id_hash: str
    kind: str
    principal: str
    created_at: datetime
    expires_at: datetime
    last_seen_at: datetime
    client_ip: str
    user_agent: str


class AdminSessions:
    def __init__(
        self, db: Database, sessions: SessionService, keys: SecretKeys, *, admin_token: str, ttl: timedelta,
        clock: Clock = utc_now,
    ) -> None:
        self._db = db
        self._sessions = sessions
        self._keys = keys
        self._admin_token = admin_token
        self.ttl = ttl
        self.clock = clock  # tests move it (expiry)

    def token_login(self) -> AdminLogin:
        return AdminLogin(TOKEN, TOKEN_PRINCIPAL, self._keys.digest(self._admin_token))

    @staticmethod
    def user_login(openid: str, session_id: str) -> AdminLogin:
        return AdminLogin(USER, openid, session_id)

    async def open(self, login: AdminLogin, client_ip: str, user_agent: str) -> str:
        """A new session; returns the raw id for the cookie (shown once, never stored)."""
        raw_id = new_token()
        now = self.clock()
        async with self._db.session() as s:
            await s.exec(delete(AdminSession).where(col(AdminSession.expires_at) < now))  # expired: gone
            s.add(AdminSession(
                id_hash=id_hash(raw_id), kind=login.kind, principal=login.principal[:100], credential=login.credential,
                created_at=now, expires_at=now + self.ttl, last_seen_at=now, client_ip=client_ip[:64],
                user_agent=user_agent[:USER_AGENT_MAX],
            ))
        return raw_id

    async def check(self, raw_id: str) -> ActiveAdminSession | None:
        """The session the cookie names, if it is live and what opened it still stands."""
        if not raw_id or len(raw_id) > 100:
            return None
        now = self.clock()
        async with self._db.session() as s:
            row = await s.get(AdminSession, id_hash(raw_id))
        if row is None or row.revoked_at is not None or aware(row.expires_at) <= now:
            return None
        if not await self._stands(row):
            return None
        if now - aware(row.last_seen_at) >= SEEN_EVERY:
            async with self._db.session() as s:
                await s.exec(update(AdminSession).where(col(AdminSession.id_hash) == row.id_hash).values(last_seen_at=now))
            row.last_seen_at = now
        return _active(row)

    async def _stands(self, row: AdminSession) -> bool:
        if row.kind == TOKEN:
            return bool(self._admin_token) and same_secret(row.credential, self._keys.digest(self._admin_token))
        viewer = await self._sessions.by_session_id(row.credential)
        return viewer is not None and viewer.openid == row.principal and Permission.MONITORING_READ in viewer.permissions

    async def revoke(self, hash_or_raw: str, *, raw: bool = False) -> bool:
        """Revoke by the stored hash (the dashboard's list) or by the cookie's raw id (logout)."""
        target = id_hash(hash_or_raw) if raw else hash_or_raw[:64]
        async with self._db.session() as s:
            result = await s.exec(
                update(AdminSession)
                .where(col(AdminSession.id_hash) == target, col(AdminSession.revoked_at).is_(None))
                .values(revoked_at=self.clock())
            )
        return bool(result.rowcount)

    async def active(self, limit: int = 100) -> list[ActiveAdminSession]:
        """Live sessions (not revoked, not expired), newest first. Their credentials are not
        re-checked here: a session whose administrator lost the role is refused on its next request."""
        async with self._db.session() as s:
            rows = (await s.exec(
                select(AdminSession)
                .where(col(AdminSession.revoked_at).is_(None), col(AdminSession.expires_at) > self.clock())
                .order_by(col(AdminSession.created_at).desc()).limit(limit)
            )).all()
        return [_active(row) for row in rows]


def _active(row: AdminSession) -> ActiveAdminSession:
    return ActiveAdminSession(row.id_hash, row.kind, row.principal, aware(row.created_at), aware(row.expires_at),
                              aware(row.last_seen_at), row.client_ip, row.user_agent)
