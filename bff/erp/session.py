"""The service account's ERP session: logged in lazily, renewed once per expiry.

Concurrent callers that met the same expired session wait for one login: the lock
serialises logins and the generation number tells a waiter that someone else has
already replaced the session it saw expire.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field

import httpx

from bff.erp import protocol
from bff.erp.errors import ErpDataInvalid, ErpUnavailable
from bff.erp.transport import Deadline, Transport

logger = logging.getLogger("bff.erp")


@dataclass(frozen=True)
class ErpSession:
    generation: int
    sid: str = field(repr=False)
    app_session: str = field(repr=False)

    def cookie_header(self) -> str:
        return f"{protocol.SESSION_COOKIE}={self.app_session}; {protocol.SID_COOKIE}={self.sid}"


class SessionKeeper:
    def __init__(
        self, transport: Transport, *, login_url: str, base_url: str, app_id: str, account: str, password: str
    ) -> None:
        self._transport = transport
        self._login_url = login_url
        self._base_url = base_url
        self._app_id = app_id
        self._account = account
        self._password = password
        self._session: ErpSession | None = None
        self._generation = 0
        self._lock = asyncio.Lock()
        self.logins = 0  # completed logins, for monitoring and tests

    async def get(self, deadline: Deadline, attempt: int, *, stale: int | None = None) -> ErpSession:
        """The current session; a new one if there is none or the current one is ``stale``."""
        session = self._session
        if session is not None and session.generation != stale:
            return session
        async with self._lock:
            session = self._session
            if session is not None and session.generation != stale:
                return session  # someone else logged in while we waited
            self._session = await self._login(deadline, attempt)
            return self._session

    async def _login(self, deadline: Deadline, attempt: int) -> ErpSession:
        try:
            platform = await self._transport.call(
                "POST", self._login_url + protocol.LOGIN_PATH, protocol.login_cookies,
                endpoint="login", form_id=None, attempt=attempt, deadline=deadline,
                json=protocol.login_body(self._account, self._password),
            )
        except protocol.LoginRefused as error:
            logger.error("erp service account login refused reason=%s", error)
            raise ErpUnavailable("service account login refused") from None
        sid = platform.get(protocol.SID_COOKIE)
        if not sid:
            raise ErpDataInvalid("login set no sid cookie")
        app_session = await self._open_app(sid, deadline, attempt)
        self._generation += 1
        self.logins += 1
        logger.info("erp login ok generation=%d", self._generation)
        return ErpSession(self._generation, sid, app_session)

    async def _open_app(self, sid: str, deadline: Deadline, attempt: int) -> str:
        """Step 2: follow the open-app redirect chain by hand so every hop carries the sid
        (httpx drops an explicit Cookie header on redirects) and every Set-Cookie is seen."""
        url = httpx.URL(self._base_url + protocol.OPEN_APP_PATH.format(app_id=self._app_id))
        cookies = {protocol.SID_COOKIE: sid}
        app_session: str | None = None
        for _ in range(protocol.MAX_REDIRECTS + 1):
            header = "; ".join(f"{name}={value}" for name, value in cookies.items())
            response = await self._transport.call(
                "GET", str(url), protocol.open_app_hop, endpoint="open-app", form_id=None,
                attempt=attempt, deadline=deadline, headers={"Cookie": header},
            )
            new = protocol.set_cookies(response)
            app_session = new.get(protocol.SESSION_COOKIE, app_session)
            cookies.update(new)
            location = response.headers.get("location")
            if not response.is_redirect or not location:
                break
            url = response.url.join(location)
        else:
            raise ErpDataInvalid("open-app redirected too many times")
        if not app_session:
            raise ErpDataInvalid("open-app set no application session")
        return app_session
