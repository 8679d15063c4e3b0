"""Calls to WeChat's server API: login code exchange, access token, subscription messages.

The app secret, ``session_key`` and access tokens travel in URLs and bodies here; none of
them may reach a log line or an exception text, so errors carry only WeChat's errcode,
its errmsg (with the secret masked) and exception type names.
"""

from __future__ import annotations

import asyncio
import logging
import random
from dataclasses import dataclass, field
from typing import Any

import httpx
from aiocache import SimpleMemoryCache
from aiocache.base import BaseCache

from bff.wechat.errors import SYSTEM_BUSY, Retryable, WxUnavailable, refusal

log = logging.getLogger(__name__)

TOKEN_ERRORS = frozenset({40001, 42001})
ATTEMPTS = 3  # the first call and two retries
BACKOFF_S = (0.05, 0.2)
TOKEN_LOCK_TTL_S = 10
TOKEN_LOCK_POLL_S = 0.05
TOKEN_LOCK_POLLS = 100
SCENE_PROFILE = 1  # msgSecCheck scenes: 1 资料 (profile), 2 评论, 3 论坛, 4 社交日志


@dataclass(frozen=True)
class WxSession:
    openid: str
    session_key: str = field(repr=False)  # server-side only: never logged, never returned
    unionid: str | None = None


class WechatClient:
    def __init__(
        self,
        base_url: str,
        appid: str,
        secret: str,
        http: httpx.AsyncClient,
        token_cache: BaseCache | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.appid = appid
        self._secret = secret
        self.http = http
        self.token_cache: BaseCache = token_cache if token_cache is not None else SimpleMemoryCache()
        self.token_key = f"wx:access_token:{appid}"
        self._token_lock = asyncio.Lock()  # one stable_token request at a time per process

    def __repr__(self) -> str:
        return f"WechatClient(base_url={self.base_url!r}, appid={self.appid!r})"

    # --- transport --------------------------------------------------------------------------

    def _mask(self, text: str) -> str:
        return text.replace(self._secret, "***") if self._secret else text

    async def _once(self, method: str, path: str, *, safe_to_repeat: bool, **kwargs: Any) -> dict[str, Any]:
        """One HTTP call; raises Retryable for what may be repeated, WxUnavailable otherwise."""
        try:
            response = await self.http.request(method, self.base_url + path, **kwargs)
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:  # never reached WeChat
            raise Retryable(type(exc).__name__) from None
        except httpx.TransportError as exc:
            if safe_to_repeat:
                raise Retryable(type(exc).__name__) from None
            raise WxUnavailable(SYSTEM_BUSY, type(exc).__name__, ambiguous=True) from None
        if response.status_code >= 500 and safe_to_repeat:
            raise Retryable(f"HTTP {response.status_code}")
        try:
            payload = response.json()
        except ValueError:
            payload = None
        if response.status_code != 200 or not isinstance(payload, dict):
            raise WxUnavailable(SYSTEM_BUSY, f"HTTP {response.status_code}, unexpected body")
        if payload.get("errcode") == SYSTEM_BUSY:
            raise Retryable(self._mask(str(payload.get("errmsg", "system error"))))
        return payload

    async def _call(self, method: str, path: str, *, safe_to_repeat: bool = True, **kwargs: Any) -> dict[str, Any]:
        """WeChat's JSON answer; system busy (-1) and transport failures are retried with jitter."""
        last = ""
        for attempt in range(ATTEMPTS):
            if attempt:
                await asyncio.sleep(random.uniform(*BACKOFF_S))
            try:
                return await self._once(method, path, safe_to_repeat=safe_to_repeat, **kwargs)
            except Retryable as exc:
                last = exc.errmsg
                log.debug("wechat %s failed (%s), attempt %d of %d", path, last, attempt + 1, ATTEMPTS)  # the caller logs the episode
        raise WxUnavailable(SYSTEM_BUSY, last)

    def _errcode(self, payload: dict[str, Any]) -> tuple[int, str]:
        errcode = payload.get("errcode", 0)
        return (int(errcode) if isinstance(errcode, int) else SYSTEM_BUSY), self._mask(str(payload.get("errmsg", "")))

    # --- login ------------------------------------------------------------------------------

    async def code_to_session(self, code: str) -> WxSession:
        """Exchange a ``wx.login()`` code for the user's openid and session_key."""
        params = {"appid": self.appid, "secret": self._secret, "js_code": code, "grant_type": "authorization_code"}
        payload = await self._call("GET", "/sns/jscode2session", params=params)
        errcode, errmsg = self._errcode(payload)
        if errcode != 0:
            log.info("wechat jscode2session refused: errcode %d", errcode)
            raise refusal(errcode, errmsg, login=True)
        openid, session_key = payload.get("openid"), payload.get("session_key")
        if not isinstance(openid, str) or not openid or not isinstance(session_key, str) or not session_key:
            raise WxUnavailable(SYSTEM_BUSY, "jscode2session answer lacks openid or session_key")
        unionid = payload.get("unionid")
        return WxSession(openid, session_key, unionid if isinstance(unionid, str) and unionid else None)

    # --- access token -----------------------------------------------------------------------

    async def access_token(self, force_refresh: bool = False) -> str:
        """The app's access token, shared through the cache by every instance."""
        if not force_refresh:
            cached = await self.token_cache.get(self.token_key)
            if cached:
                return str(cached)
        async with self._token_lock:
            if not force_refresh:
                cached = await self.token_cache.get(self.token_key)  # a concurrent caller fetched it
                if cached:
                    return str(cached)
            return await self._fetch_shared(force_refresh, rejected=None)

    async def _replace_token(self, rejected: str) -> str:
        """A token other than ``rejected``; callers that all saw it rejected share one refresh."""
        async with self._token_lock:
            cached = await self.token_cache.get(self.token_key)
            if cached and cached != rejected:
                return str(cached)
            return await self._fetch_shared(True, rejected=rejected)

    async def _fetch_shared(self, force_refresh: bool, rejected: str | None) -> str:
        """Fetch under a lock in the shared cache, so that several instances on one Redis make
        one stable_token request between them; the others wait for the token it stores."""
        lock_key = self.token_key + ":lock"
        for _ in range(TOKEN_LOCK_POLLS):
            try:
                await self.token_cache.add(lock_key, "1", ttl=TOKEN_LOCK_TTL_S)
            except ValueError:  # another instance is fetching
                await asyncio.sleep(TOKEN_LOCK_POLL_S)
                cached = await self.token_cache.get(self.token_key)
                if cached and cached != rejected:
                    return str(cached)
                continue
            try:
                return await self._fetch_token(force_refresh)
            finally:
                await self.token_cache.delete(lock_key)
        return await self._fetch_token(force_refresh)  # the holder seems stuck: fetch anyway

    async def _fetch_token(self, force_refresh: bool) -> str:
        body = {"grant_type": "client_credential", "appid": self.appid, "secret": self._secret, "force_refresh": force_refresh}
        payload = await self._call("POST", "/cgi-bin/stable_token", json=body)
        errcode, errmsg = self._errcode(payload)
        token, expires_in = payload.get("access_token"), payload.get("expires_in")
        if errcode != 0 or not isinstance(token, str) or not token:
            log.error("wechat stable_token refused: errcode %d", errcode)
            raise refusal(errcode or SYSTEM_BUSY, errmsg or "no access_token in the answer")
        ttl = int(expires_in) if isinstance(expires_in, int) and expires_in > 0 else 7200
        ttl -= min(300, ttl // 5)  # expire here before WeChat does
        if ttl > 0:
            await self.token_cache.set(self.token_key, token, ttl=ttl)
        return token

    # --- subscription messages --------------------------------------------------------------

    async def send_subscribe(
        self,
        touser: str,
        template_id: str,
        data: dict[str, str],
        page: str | None = None,
        miniprogram_state: str = "formal",
    ) -> int:
        """Send one subscription message; returns WeChat's msgid. Values must already fit their rules."""
        body: dict[str, Any] = {
            "touser": touser,
            "template_id": template_id,
            "miniprogram_state": miniprogram_state,
            "lang": "zh_CN",
            "data": {key: {"value": value} for key, value in data.items()},
        }
        if page:
            body["page"] = page
        # Only failures that surely did not deliver are repeated: never a double message.
        payload = await self._token_call("/cgi-bin/message/subscribe/send", body, safe_to_repeat=False, what=template_id)
        msgid = payload.get("msgid")
        return int(msgid) if isinstance(msgid, int) else 0

    # --- content security -------------------------------------------------------------------

    async def msg_sec_check(self, openid: str, content: str, scene: int = SCENE_PROFILE) -> str:
        """WeChat's text security check (msgSecCheck v2) of what ``openid`` wrote:
        ``pass``, ``review`` or ``risky``. The user must have used the mini program recently."""
        body = {"content": content, "version": 2, "scene": scene, "openid": openid}
        payload = await self._token_call("/wxa/msg_sec_check", body, safe_to_repeat=True, what="msg_sec_check")
        result = payload.get("result")
        suggest = result.get("suggest") if isinstance(result, dict) else None
        if suggest not in ("pass", "review", "risky"):
            raise WxUnavailable(SYSTEM_BUSY, "msg_sec_check answer lacks result.suggest")
        return str(suggest)

    async def _token_call(self, path: str, body: dict[str, Any], *, safe_to_repeat: bool, what: str) -> dict[str, Any]:
        """POST ``body`` with the access token; a rejected token is replaced once and the call repeated."""
        token = await self.access_token()
        for refreshed in (False, True):
            payload = await self._call("POST", path, safe_to_repeat=safe_to_repeat, params={"access_token": token}, json=body)
            errcode, errmsg = self._errcode(payload)
            if errcode == 0:
                return payload
            if errcode in TOKEN_ERRORS and not refreshed:
                log.info("wechat access token refused (errcode %d); refreshing once", errcode)
                token = await self._replace_token(token)
                continue
            log.info("wechat %s refused: errcode %d, %s", path, errcode, what)
            raise refusal(errcode, errmsg)
        raise AssertionError("unreachable")  # the loop returns or raises
