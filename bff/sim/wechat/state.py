"""The WeChat simulator's state and rules, free of HTTP so they read like WeChat's docs.

Every protocol method returns WeChat's JSON answer (a dict); errors are
``{"errcode": n, "errmsg": "..."}`` exactly as WeChat sends them with HTTP 200.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import secrets
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from bff.wechat.value_rules import key_type, violation

Answer = dict[str, Any]

# Template id -> {key: key type}. The key names carry their type, as at WeChat.
DEFAULT_TEMPLATES: dict[str, dict[str, str]] = {
    # 订单状态变更: 订单编号, 商品摘要, 订单状态, 更新时间, 备注
    "TPL_ORDER_STATUS": {
        "character_string1": "character_string", "thing2": "thing", "phrase3": "phrase",
        "time4": "time", "thing5": "thing",
    },
    # 生产完成通知: 订单编号, 产品名称, 数量, 完成时间, 备注
    "TPL_PRODUCTION_DONE": {
        "character_string1": "character_string", "thing2": "thing", "number3": "number",
        "time4": "time", "thing5": "thing",
    },
    # 发货通知: 订单编号, 商品摘要, 物流公司, 快递单号, 发货时间
    "TPL_ORDER_SHIPPED": {
        "character_string1": "character_string", "thing2": "thing", "thing3": "thing",
        "character_string4": "character_string", "time5": "time",
    },
    # 系统告警 (for admins): 告警内容, 级别, 发生时间, 处理建议
    "TPL_ADMIN_ALERT": {
        "thing1": "thing", "phrase2": "phrase", "time3": "time", "thing4": "thing",
    },
}

RATE_WINDOW_S = 60.0
RATE_MAX_PER_OPENID = 100
MINIPROGRAM_STATES = frozenset({"developer", "trial", "formal"})


@dataclass
class WechatSimConfig:
    appid: str = "wx-demo-appid"
    secret: str = "dev-only-secret-change-me"
    code_ttl_s: float = 300
    token_ttl_s: float = 7200
    token_grace_s: float = 300
    templates: dict[str, dict[str, str]] = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_TEMPLATES.items()})
    pages_prefix: str = "pages/"
    # msgSecCheck: text containing any of these is "risky" (WeChat's real rules are its own).
    risky_words: tuple[str, ...] = ("<script", "赌博", "代开发票")
    review_words: tuple[str, ...] = ("加微信",)


@dataclass
class _User:
    openid: str
    unionid: str | None
    known: bool = False  # has logged in through jscode2session: a valid touser
    blocked: bool = False


@dataclass
class _Code:
    openid: str
    expires_at: float
    used: bool = False


@dataclass
class _Token:
    expires_at: float
    revoked_at: float | None = None  # from then on the token answers 40001


@dataclass
class Faults:
    latency_ms: float = 0.0
    system_error_next: int = 0
    rate_limit_next: int = 0


def error(errcode: int, errmsg: str) -> Answer:
    return {"errcode": errcode, "errmsg": errmsg}


def derive_id(*parts: str) -> str:
    """A WeChat-looking id ("o" + 27 characters), stable for the same parts."""
    digest = hashlib.sha256(":".join(parts).encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


class WechatSim:
    """The part of api.weixin.qq.com the BFF uses, plus what wx.login() and users do."""

    def __init__(self, config: WechatSimConfig | None = None, clock: Callable[[], float] = time.time) -> None:
        self.config = config or WechatSimConfig()
        self.clock = clock
        for template_id, keys in self.config.templates.items():
            for key, declared in keys.items():
                if key_type(key) != declared:
                    raise ValueError(f"template {template_id}: key {key} does not name type {declared}")
        self.users: dict[str, _User] = {}
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, _Token] = {}
        self.latest_token: str | None = None  # /cgi-bin/token
        self.stable_token_value: str | None = None  # /cgi-bin/stable_token
        self.grants: Counter[tuple[str, str]] = Counter()
        self.messages: list[Answer] = []
        self.faults = Faults()
        self.stats: Counter[str] = Counter()
        self._calls: dict[str, deque[float]] = {}
        self._msgids = itertools.count(3_000_000_001)

    # --- what the mini program and its users do -----------------------------------------

    def wx_login(self, user: str | None = None, openid: str | None = None, unionid: str | None = None) -> Answer:
        """``wx.login()``: a fresh single-use code for a stable openid."""
        if openid is None:
            if not user:
                raise ValueError("give user or openid")
            openid = derive_id(self.config.appid, user)
            unionid = unionid or derive_id("unionid", user)  # unionid spans apps: no appid in it
        account = self.users.setdefault(openid, _User(openid, unionid))
        if unionid:
            account.unionid = unionid
        self._forget_old_codes()
        code = secrets.token_urlsafe(24)
        self.codes[code] = _Code(openid, self.clock() + self.config.code_ttl_s)
        return {"code": code, "openid": openid}

    def grant(self, openid: str, template_id: str, count: int = 1) -> int:
        """A user's "accept" in wx.requestSubscribeMessage: ``count`` more sends allowed."""
        if template_id not in self.config.templates:
            raise ValueError(f"unknown template {template_id}")
        if count < 0:
            raise ValueError("count must not be negative")
        self.grants[(openid, template_id)] += count
        return self.grants[(openid, template_id)]

    def block(self, openid: str, blocked: bool = True) -> None:
        self.users.setdefault(openid, _User(openid, None)).blocked = blocked

    # --- faults ---------------------------------------------------------------------------

    def set_faults(
        self,
        latency_ms: float | None = None,
        system_error_next: int | None = None,
        rate_limit_next: int | None = None,
        invalidate_tokens: bool = False,
        expire_tokens: bool = False,
    ) -> None:
        if latency_ms is not None:
            self.faults.latency_ms = float(latency_ms)
        if system_error_next is not None:
            self.faults.system_error_next = int(system_error_next)
        if rate_limit_next is not None:
            self.faults.rate_limit_next = int(rate_limit_next)
        now = self.clock()
        for token in self.tokens.values():
            if invalidate_tokens:
                token.revoked_at = now
            if expire_tokens:
                token.expires_at = min(token.expires_at, now)

    def reset_faults(self) -> None:
        self.faults = Faults()

    def take_system_error(self) -> bool:
        """True when this protocol call is one of the next N that answer -1."""
        if self.faults.system_error_next <= 0:
            return False
        self.faults.system_error_next -= 1
        return True

    # --- protocol: login ------------------------------------------------------------------

    def jscode2session(self, appid: str, secret: str, js_code: str, grant_type: str) -> Answer:
        self.stats["jscode2session"] += 1
        if self.take_system_error():
            return error(-1, "system error")
        if self.faults.rate_limit_next > 0:
            self.faults.rate_limit_next -= 1
            return error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        if appid != self.config.appid:
            return error(40013, "invalid appid")
        if secret != self.config.secret:
            return error(40125, "invalid appsecret")
        if grant_type != "authorization_code":
            return error(40002, "invalid grant_type")
        if not js_code:
            return error(41008, "missing code")
        code = self.codes.get(js_code)
        if code is None:
            return error(40029, "invalid code")
        if code.used:
            return error(40163, "code been used")
        if self.clock() >= code.expires_at:
            return error(40029, "invalid code")
        user = self.users[code.openid]
        if user.blocked:
            return error(40226, "invalid ip, user is blocked by risk control")
        if not self._within_rate(code.openid):
            return error(45011, "api minute-quota reach limit  mustslower  retry next minute")
        code.used = True
        user.known = True
        answer: Answer = {"openid": user.openid, "session_key": base64.b64encode(secrets.token_bytes(16)).decode()}
        if user.unionid:
            answer["unionid"] = user.unionid
        return answer

    def _within_rate(self, openid: str) -> bool:
        now = self.clock()
        calls = self._calls.setdefault(openid, deque())
        while calls and calls[0] <= now - RATE_WINDOW_S:
            calls.popleft()
        calls.append(now)
        return len(calls) <= RATE_MAX_PER_OPENID

    def _forget_old_codes(self) -> None:
        # Used codes are kept a while so reuse answers 40163, not 40029.
        horizon = self.clock() - self.config.code_ttl_s
        for code in [c for c, v in self.codes.items() if v.expires_at < horizon]:
            del self.codes[code]

    # --- protocol: access tokens ----------------------------------------------------------

    def _check_app(self, grant_type: str, appid: str, secret: str) -> Answer | None:
        if self.take_system_error():
            return error(-1, "system error")
        if grant_type != "client_credential":
            return error(40002, "invalid grant_type")
        if appid != self.config.appid:
            return error(40013, "invalid appid")
        if secret != self.config.secret:
            return error(40125, "invalid appsecret")
        return None

    def _new_token(self, previous: str | None) -> str:
        now = self.clock()
        if previous is not None and previous in self.tokens:
            old = self.tokens[previous]
            grace_end = now + self.config.token_grace_s
            old.revoked_at = grace_end if old.revoked_at is None else min(old.revoked_at, grace_end)
        token = secrets.token_urlsafe(96)
        self.tokens[token] = _Token(now + self.config.token_ttl_s)
        return token

    def token(self, grant_type: str, appid: str, secret: str) -> Answer:
        """``/cgi-bin/token``: a new token on every call; the previous one lives a grace period."""
        self.stats["token"] += 1
        refused = self._check_app(grant_type, appid, secret)
        if refused is not None:
            return refused
        self.latest_token = self._new_token(self.latest_token)
        return {"access_token": self.latest_token, "expires_in": int(self.config.token_ttl_s)}

    def stable_token(self, grant_type: str, appid: str, secret: str, force_refresh: bool) -> Answer:
        """``/cgi-bin/stable_token``: the same token until it expires, unless forced."""
        self.stats["stable_token"] += 1
        refused = self._check_app(grant_type, appid, secret)
        if refused is not None:
            return refused
        now = self.clock()
        current = self.tokens.get(self.stable_token_value or "")
        if force_refresh or current is None or now >= current.expires_at:
            self.stable_token_value = self._new_token(self.stable_token_value)
            current = self.tokens[self.stable_token_value]
        return {"access_token": self.stable_token_value, "expires_in": max(0, int(current.expires_at - now))}

    def _check_token(self, access_token: str) -> Answer | None:
        if not access_token:
            return error(41001, "access_token missing")
        token = self.tokens.get(access_token)
        now = self.clock()
        if token is None or (token.revoked_at is not None and now >= token.revoked_at):
            return error(40001, "invalid credential, access_token is invalid or not latest")
        if now >= token.expires_at:
            return error(42001, "access_token expired")
        return None

    # --- protocol: subscription messages --------------------------------------------------

    def _token_call(self, name: str, access_token: str) -> Answer | None:
        """Counts a call made with an access token; WeChat's first refusal of it, if any."""
        self.stats[name] += 1
        if self.take_system_error():
            return error(-1, "system error")
        return self._check_token(access_token)

    def subscribe_send(self, access_token: str, body: Any) -> Answer:
        refused = self._token_call("subscribe_send", access_token)
        if refused is not None:
            return refused
        if not isinstance(body, dict):
            return error(47001, "data format error")
        touser = body.get("touser")
        user = self.users.get(touser) if isinstance(touser, str) else None
        if user is None or not user.known or not isinstance(touser, str):
            return error(40003, "invalid openid")
        template_id = body.get("template_id")
        keys = self.config.templates.get(template_id) if isinstance(template_id, str) else None
        if keys is None or not isinstance(template_id, str):
            return error(40037, "invalid template_id")
        page = body.get("page")
        if page not in (None, "") and (not isinstance(page, str) or not page.startswith(self.config.pages_prefix)):
            return error(41030, "invalid page")
        state = body.get("miniprogram_state", "formal")
        if state not in MINIPROGRAM_STATES:
            return error(47003, "argument invalid! miniprogram_state invalid")
        data = body.get("data")
        if not isinstance(data, dict):
            return error(47003, "argument invalid! data invalid")
        values: dict[str, str] = {}
        for key, declared in keys.items():
            entry = data.get(key)
            value = entry.get("value") if isinstance(entry, dict) else None
            if not isinstance(value, str) or violation(declared, value) is not None:
                return error(47003, f"argument invalid! data.{key}.value invalid")
            values[key] = value
        if self.grants[(touser, template_id)] <= 0:
            return error(43101, "user refuse to accept the msg")
        self.grants[(touser, template_id)] -= 1
        msgid = next(self._msgids)
        self.messages.append(
            {
                "touser": touser,
                "template_id": template_id,
                "page": page,
                "miniprogram_state": state,
                "lang": body.get("lang", "zh_CN"),
                "data": values,
                "msgid": msgid,
                "time": datetime.fromtimestamp(self.clock(), UTC).isoformat(timespec="milliseconds"),
            }
        )
        return {"errcode": 0, "errmsg": "ok", "msgid": msgid}

    # --- protocol: content security ------------------------------------------------------

    def msg_sec_check(self, access_token: str, body: Any) -> Answer:
        """``/wxa/msg_sec_check`` v2: a verdict on text a user wrote (scene 1 = profile)."""
        refused = self._token_call("msg_sec_check", access_token)
        if refused is not None:
            return refused
        if not isinstance(body, dict) or body.get("version") != 2:
            return error(47001, "data format error")
        content, scene, openid = body.get("content"), body.get("scene"), body.get("openid")
        if not isinstance(content, str) or not content or len(content) > 2500:
            return error(47001, "data format error")
        if scene not in (1, 2, 3, 4):
            return error(40003, "invalid scene")
        user = self.users.get(openid) if isinstance(openid, str) else None
        if user is None or not user.known:
            return error(61010, "user is not visit recently")  # the openid must have logged in lately
        lowered = content.lower()
        if any(w in lowered for w in self.config.risky_words):
            suggest, label = "risky", 20001
        elif any(w in lowered for w in self.config.review_words):
            suggest, label = "review", 21000
        else:
            suggest, label = "pass", 100
        return {
            "errcode": 0, "errmsg": "ok", "trace_id": secrets.token_hex(12),
            "result": {"suggest": suggest, "label": label},
            "detail": [{"strategy": "content_model", "errcode": 0, "suggest": suggest, "label": label}],
        }

    # --- inspection -----------------------------------------------------------------------

    def grant_list(self, openid: str | None = None) -> list[Answer]:
        return [
            {"openid": o, "template_id": t, "count": n}
            for (o, t), n in sorted(self.grants.items())
            if openid is None or o == openid
        ]

    def stats_snapshot(self) -> dict[str, int]:
        return {name: self.stats[name] for name in ("jscode2session", "token", "stable_token", "subscribe_send", "msg_sec_check")}
