"""The tracking simulator's state: parcels that move, subscriptions, and the pushes made.

A stand-in for 快递100 as its public demos describe it (docs/tracking.md), written apart from the
BFF's client on purpose (it must not share the BFF's assumptions): the signed real-time query,
the subscription, and pushes of the whole track (``lastResult``, newest first) signed
``MD5(param + salt)`` to the subscriber's ``callbackurl``, which must answer ``{"result": true,
"returnCode": "200"}`` or is pushed again. Pushes repeat (``repeat``) and arrive out of order
(``reorder``: after each new push, the one before it is sent again). Carriers outside
``covered`` are refused; those in ``needs_phone`` answer only with the receiver's phone (its last
four digits; checked against ``/__sim/phones`` when the test registered them).

Each parcel follows a script chosen by its number (揽收 → 在途 ... → 派件 → 签收, one in five
through 疑难 first); it moves one step every ``step_s`` seconds (0: only on ``/__sim/advance``).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

CST = timezone(timedelta(hours=8))
COVERED = frozenset({
    "shunfeng", "shunfengkuaiyun", "yuantong", "zhongtong", "zhongtongkuaiyun", "shentong", "yunda", "yundakuaiyun",
    "jd", "ems", "youzhengguonei", "debangwuliu", "jtexpress", "kuayue", "huitongkuaidi", "zhaijisong", "youshuwuliu",
    "fengwang", "yimidida",
})
NEEDS_PHONE = frozenset({"shunfeng", "shunfengkuaiyun"})
CITIES = ["上海市", "杭州市", "苏州市", "广州市", "深圳市", "成都市", "武汉市", "温州市", "宁波市", "南京市"]
HUBS = ["上海转运中心", "杭州转运中心", "广州转运中心", "武汉转运中心", "郑州转运中心"]

Poster = Callable[[str, dict[str, str]], Awaitable[tuple[int, Any]]]


@dataclass
class TrackingSimConfig:
    customer: str = "demo-kuaidi100-customer"
    key: str = "demo-kuaidi100-key-not-a-secret"
    step_s: float = 20.0
    repeat: bool = True
    reorder: bool = True
    covered: frozenset[str] = COVERED
    needs_phone: frozenset[str] = NEEDS_PHONE
    retry_s: float = 2.0  # a push not acknowledged is sent again after this (快递100: 35 minutes)
    retries: int = 3


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()


def _script(com: str, number: str) -> list[tuple[str, str, str]]:
    """(state, text, place) of each step of this parcel's journey."""
    n = zlib.crc32(f"{com}:{number}".encode())
    origin, dest, hub = CITIES[n % len(CITIES)], CITIES[(n // 11 + 3) % len(CITIES)], HUBS[n // 7 % len(HUBS)]
    steps = [
        ("1", f"【{origin}】快件已揽收", origin),
        ("0", f"【{origin}】快件已发往 {hub}", origin),
        ("0", f"【{hub}】快件已到达 {hub}", hub),
        ("0", f"【{hub}】快件已发往 {dest}", hub),
        ("0", f"【{dest}】快件已到达 {dest}营业部", dest),
    ]
    if n % 5 == 0:
        steps.append(("2", f"【{dest}】快件异常：收件地址不详，正在联系收件人", dest))
    steps += [("5", f"【{dest}】快递员正在派件，请保持电话畅通", dest), ("3", f"【{dest}】已签收，签收人：本人", dest)]
    return steps


@dataclass
class Parcel:
    com: str
    number: str
    script: list[tuple[str, str, str]]
    reached: list[datetime]  # when each step so far was reached

    @property
    def stage(self) -> int:
        return len(self.reached) - 1

    @property
    def final(self) -> bool:
        return self.stage >= len(self.script) - 1

    def result(self) -> dict[str, Any]:
        """The track as the service answers it (newest first)."""
        data = []
        for (state, text, place), when in zip(self.script, self.reached, strict=False):
            stamp = when.astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
            data.append({"time": stamp, "ftime": stamp, "context": text, "location": place, "areaName": place, "status": state})
        data.reverse()
        state = self.script[self.stage][0]
        return {"message": "ok", "state": state, "status": "200", "condition": "F00", "ischeck": "1" if state == "3" else "0",
                "com": self.com, "nu": self.number, "data": data}


@dataclass
class Subscription:
    com: str
    number: str
    callback: str
    salt: str
    last_param: str | None = None  # the previous push, sent again late (reorder)


@dataclass
class TrackingSim:
    config: TrackingSimConfig = field(default_factory=TrackingSimConfig)
    parcels: dict[str, Parcel] = field(default_factory=dict)
    subscriptions: dict[str, Subscription] = field(default_factory=dict)
    phones: dict[str, str] = field(default_factory=dict)  # number -> the tail a test registered
    requests: list[dict[str, Any]] = field(default_factory=list)  # what reached the service (tests)
    pushes: list[dict[str, Any]] = field(default_factory=list)
    down: bool = False
    poster: Poster | None = None  # set by the app: how pushes reach a callback
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(CST))
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    def parcel(self, com: str, number: str) -> Parcel:
        known = self.parcels.get(number)
        if known is None or known.com != com:
            start = zlib.crc32(number.encode()) % 3  # some are further on when first asked about
            now = self.clock()
            reached = [now - timedelta(hours=2 * (start - i)) for i in range(start + 1)]
            known = self.parcels[number] = Parcel(com, number, _script(com, number), reached)
        return known

    def _phone_refused(self, com: str, number: str, phone: str) -> bool:
        if com not in self.config.needs_phone:
            return False
        digits = "".join(c for c in phone if c.isdigit())
        expected = self.phones.get(number)
        return len(digits) < 4 or (expected is not None and digits[-4:] != expected)

    # --- the service's endpoints --------------------------------------------------------------

    def query(self, customer: str, param: str, sign: str) -> dict[str, Any]:
        self.requests.append({"kind": "query", "customer": customer, "param": param})
        if customer != self.config.customer or sign != md5_upper(param + self.config.key + self.config.customer):
            return {"result": False, "returnCode": "503", "message": "验证签名失败"}
        try:
            asked = json.loads(param)
            com, number, phone = str(asked["com"]), str(asked["num"]), str(asked.get("phone") or "")
        except (ValueError, KeyError, TypeError):
            return {"result": False, "returnCode": "400", "message": "参数错误"}
        self.requests[-1].update(com=com, number=number, phone=phone or None)
        if com not in self.config.covered:
            return {"result": False, "returnCode": "400", "message": "找不到对应公司"}
        if self._phone_refused(com, number, phone):
            return {"result": False, "returnCode": "408", "message": "快递公司参数异常：验证码错误"}
        return self.parcel(com, number).result()

    def subscribe(self, schema: str, param: str) -> dict[str, Any]:
        self.requests.append({"kind": "subscribe", "param": param})
        try:
            asked = json.loads(param)
            com, number, key = str(asked["company"]), str(asked["number"]), str(asked["key"])
            parameters = asked.get("parameters") or {}
            callback, salt, phone = str(parameters["callbackurl"]), str(parameters.get("salt") or ""), str(parameters.get("phone") or "")
        except (ValueError, KeyError, TypeError, AttributeError):
            return {"result": False, "returnCode": "700", "message": "订阅方的订阅数据存在错误"}
        self.requests[-1].update(com=com, number=number, phone=phone or None)
        if schema != "json" or key != self.config.key:
            return {"result": False, "returnCode": "600", "message": "您不是合法的订阅者"}
        if com not in self.config.covered:
            return {"result": False, "returnCode": "701", "message": "拒绝订阅的快递公司"}
        if self._phone_refused(com, number, phone):
            return {"result": False, "returnCode": "700", "message": "订阅方的订阅数据存在错误（手机号）"}
        if number in self.subscriptions:
            return {"result": False, "returnCode": "501", "message": "重复订阅"}
        self.subscriptions[number] = Subscription(com, number, callback, salt)
        self.parcel(com, number)
        return {"result": True, "returnCode": "200", "message": "提交成功"}

    # --- moving parcels and pushing -----------------------------------------------------------

    async def advance(self, number: str, until: str | None = None) -> Parcel:
        """One step (or up to the first step in state ``until``), then the push."""
        parcel = self.parcels[number]
        while not parcel.final:
            parcel.reached.append(self.clock())
            if until is None or parcel.script[parcel.stage][0] == until:
                break
        await self.push(number)
        return parcel

    async def tick(self) -> None:
        """Every parcel due moves one step; subscribed ones are pushed."""
        now = self.clock()
        due = [p for p in self.parcels.values()
               if not p.final and (now - p.reached[-1]).total_seconds() >= self.config.step_s]
        for parcel in due:
            parcel.reached.append(now)
        await asyncio.gather(*(self.push(p.number) for p in due if p.number in self.subscriptions))

    async def push(self, number: str) -> None:
        """The current track to the subscriber: then again (repeat), then the previous one (late)."""
        sub = self.subscriptions.get(number)
        if sub is None or self.poster is None:
            return
        lock = self._locks.setdefault(number, asyncio.Lock())
        async with lock:  # one number's pushes in sequence: their order is the point
            parcel = self.parcels[number]
            param = json.dumps({"status": "shutdown" if parcel.final else "polling", "billstatus": "", "message": "",
                                "autoCheck": "0", "comOld": "", "comNew": "", "lastResult": parcel.result()},
                               ensure_ascii=False)
            previous, sub.last_param = sub.last_param, param
            await self._deliver(sub, param, "new")
            if self.config.repeat:
                await self._deliver(sub, param, "repeat")
            if self.config.reorder and previous is not None:
                await self._deliver(sub, previous, "late")

    async def _deliver(self, sub: Subscription, param: str, kind: str) -> None:
        form = {"param": param, "sign": md5_upper(param + sub.salt)} if sub.salt else {"param": param}
        state = json.loads(param)["lastResult"]["state"]
        for attempt in range(self.config.retries + 1):
            assert self.poster is not None
            try:
                status, answer = await self.poster(sub.callback, form)
            except Exception as error:  # noqa: BLE001  (the subscriber unreachable: pushed again)
                status, answer = 0, type(error).__name__
            ok = status == 200 and isinstance(answer, dict) and answer.get("result") is True
            self.pushes.append({"number": sub.number, "state": state, "kind": kind, "status": status, "ok": ok,
                                "attempt": attempt})
            if ok:
                return
            await asyncio.sleep(self.config.retry_s)

    def snapshot(self) -> dict[str, Any]:
        return {
            "parcels": {n: {"com": p.com, "stage": p.stage, "state": p.script[p.stage][0], "final": p.final,
                            "subscribed": n in self.subscriptions} for n, p in self.parcels.items()},
            "pushes": self.pushes, "requests": self.requests,
        }
