"""Every assumption the BFF makes about 快递100's protocol, in one place (docs/tracking.md).

Evidence: the official demo repositories ``kuaidi100-api/python-demo`` (``code/synquery.py``,
``code/subscribe.py``) and ``kuaidi100-api/java-demo`` (``api/Subscribe.java``,
``response/QueryTrackResp.java``, ``SubscribePushParamResp.java``, ``SubscribePushResult.java``,
``SubscribeResp.java``). What is marked *assumed* below comes from the public API documentation
only, not from those repositories.

* Real-time query: ``POST {base}/poll/query.do``, form-encoded ``customer``, ``param`` (JSON text),
  ``sign = MD5(param + key + customer)`` in upper-case hex over the text exactly as sent.
* Subscription: ``POST {base}/poll``, form-encoded ``schema=json`` and ``param`` (JSON text with
  ``company``, ``number``, ``key`` and ``parameters {callbackurl, salt, resultv2, phone, ...}``);
  answered ``{"result": true, "returnCode": "200", "message": ...}``.
* Push: ``POST callbackurl``, form-encoded ``param`` (``{status, message, autoCheck, comNew,
  lastResult {...}}``) and ``sign = MD5(param + salt)`` upper-case; we answer
  ``{"result": true, "returnCode": "200", "message": "成功"}``, else the push is retried (three
  times, 35 minutes apart). Pushes may repeat and arrive out of order (this module orders them
  by their newest point, :func:`newer`).
* A track (the query's answer, a push's ``lastResult``): ``state``, ``ischeck`` ("1": final),
  ``com``, ``nu``, ``data`` (newest first: ``time``, ``ftime``, ``context``, ``areaName``/``location``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from bff.core.domain import TrackingState
from bff.tracking.errors import TrackingRefused, TrackingUnavailable

QUERY_PATH = "/poll/query.do"
SUBSCRIBE_PATH = "/poll"
CHINA = ZoneInfo("Asia/Shanghai")  # the service's times carry no zone: China Standard Time
MAX_NUMBER_CHARS = 32  # "单号的最大长度是32个字符" (synquery.py)
MAX_POINTS = 100  # points kept of one track (a parcel's track rarely passes 40)
MAX_TEXT_CHARS = 200
MAX_LOCATION_CHARS = 60

PUSH_ANSWER: dict[str, Any] = {"result": True, "returnCode": "200", "message": "成功"}  # Subscribe.java
# Subscription answers that mean "followed": 200, and (assumed) 501, already subscribed.
SUBSCRIBED_CODES = frozenset({"200", "501"})

# ``state`` (QueryTrackResp.java, SubscribePushResult.java): 0 在途, 1 揽收, 2 疑难, 3 签收,
# 4 退签, 5 派件, 6 退回, 7 转投, 8 清关 (assumed), 10 待清关, 11 清关中, 12 已清关, 13 清关异常, 14 拒签.
STATES: dict[str, TrackingState] = {
    "0": TrackingState.IN_TRANSIT, "1": TrackingState.IN_TRANSIT, "2": TrackingState.PROBLEM,
    "3": TrackingState.SIGNED, "4": TrackingState.RETURNED, "5": TrackingState.OUT_FOR_DELIVERY,
    "6": TrackingState.RETURNED, "7": TrackingState.IN_TRANSIT, "8": TrackingState.IN_TRANSIT,
    "10": TrackingState.IN_TRANSIT, "11": TrackingState.IN_TRANSIT, "12": TrackingState.IN_TRANSIT,
    "13": TrackingState.PROBLEM, "14": TrackingState.PROBLEM,
}


def state_of(raw: str | None) -> TrackingState:
    """Our state of the service's. Detailed codes (assumed, with ``resultv2`` above 1: ``301``
    本人签收, ``1001`` 到达派件城市...) count as their family (``3``, ``0``)."""
    code = (raw or "").strip()
    if code in STATES:
        return STATES[code]
    if len(code) == 4 and code.startswith("10"):
        return TrackingState.IN_TRANSIT
    if len(code) == 3 and code[0] in STATES:
        return STATES[code[0]]
    return TrackingState.UNKNOWN


@dataclass(frozen=True)
class TrackPoint:
    time: datetime | None
    text: str
    location: str | None


@dataclass(frozen=True)
class Track:
    com: str
    number: str
    state: TrackingState
    raw_state: str
    final: bool  # ischeck "1": the service follows it no more
    points: tuple[TrackPoint, ...]  # newest first

    @property
    def newest_at(self) -> datetime | None:
        return self.points[0].time if self.points else None


@dataclass(frozen=True)
class Push:
    status: str  # polling | shutdown | abort | updateall
    message: str
    track: Track | None
    com_new: str | None  # the service corrected our carrier code (autoCheck=1)

    @property
    def aborted(self) -> bool:
        """"3天查询无记录" or "60天无变化": the service stopped; subscribing again is allowed."""
        return self.status == "abort"


def param_text(param: Mapping[str, Any]) -> str:
    """The JSON text sent as ``param`` (signatures are over this exact text)."""
    return json.dumps(param, ensure_ascii=False, separators=(",", ":"))


def md5_upper(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest().upper()


def query_sign(param: str, key: str, customer: str) -> str:
    return md5_upper(param + key + customer)


def push_sign(param: str, salt: str) -> str:
    return md5_upper(param + salt)


def query_form(customer: str, key: str, com: str, number: str, phone: str | None) -> dict[str, str]:
    param: dict[str, Any] = {"com": com, "num": number, "resultv2": "1", "show": "0", "order": "desc"}
    if phone:
        param["phone"] = phone
    text = param_text(param)
    return {"customer": customer, "param": text, "sign": query_sign(text, key, customer)}


def subscribe_form(key: str, com: str, number: str, phone: str | None, callback_url: str, salt: str) -> dict[str, str]:
    parameters: dict[str, Any] = {"callbackurl": callback_url, "resultv2": "1", "autoCom": "0"}
    if salt:
        parameters["salt"] = salt
    if phone:
        parameters["phone"] = phone
    return {"schema": "json", "param": param_text({"company": com, "number": number, "key": key, "parameters": parameters})}


def _time(raw: Any) -> datetime | None:
    try:
        return datetime.strptime(str(raw).strip(), "%Y-%m-%d %H:%M:%S").replace(tzinfo=CHINA)
    except ValueError:
        return None


def _clip(raw: Any, limit: int) -> str:
    text = " ".join(str(raw or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def track_of(raw: Any, *, com: str = "", number: str = "") -> Track | None:
    """A track answer read tolerantly (a point without text is dropped, an odd time is None);
    None when it is not one."""
    if not isinstance(raw, Mapping):
        return None
    points: list[TrackPoint] = []
    data = raw.get("data")
    for item in data if isinstance(data, list) else []:
        if not isinstance(item, Mapping) or not str(item.get("context") or "").strip():
            continue
        location = item.get("location") or item.get("areaName")
        points.append(TrackPoint(_time(item.get("ftime") or item.get("time")), _clip(item.get("context"), MAX_TEXT_CHARS),
                                 _clip(location, MAX_LOCATION_CHARS) if location else None))
    # Newest first whatever order was asked for; points without a time keep their place.
    if all(p.time is not None for p in points):
        points.sort(key=lambda p: p.time or datetime.min.replace(tzinfo=CHINA), reverse=True)
    raw_state = str(raw.get("state") or "")
    return Track(
        com=str(raw.get("com") or com)[:30], number=str(raw.get("nu") or number)[:MAX_NUMBER_CHARS],
        state=state_of(raw_state) if points or raw_state else TrackingState.UNKNOWN, raw_state=raw_state[:8],
        final=str(raw.get("ischeck") or "0") == "1", points=tuple(points[:MAX_POINTS]),
    )


def newer(candidate: Track, kept_newest: datetime | None, kept_points: int) -> bool:
    """Whether ``candidate`` says more than what is kept: pushes carry the whole track, so an
    older or repeated one (out of order, retried) says nothing new."""
    if kept_newest is None:
        return bool(candidate.points) or kept_points == 0
    newest = candidate.newest_at
    if newest is None:
        return False
    return newest > kept_newest or (newest == kept_newest and len(candidate.points) > kept_points)


def query_answer(body: Any, com: str, number: str) -> Track:
    """The real-time query's answer, or :class:`TrackingRefused` (``returnCode``: assumed 400
    bad parameters or unknown carrier, 500 no result, 503 signature, 601 account)."""
    if not isinstance(body, Mapping):
        raise TrackingUnavailable("answer is not a JSON object")
    if body.get("result") is False or ("returnCode" in body and str(body.get("returnCode")) != "200"):
        raise TrackingRefused(str(body.get("returnCode") or ""), _clip(body.get("message"), 100))
    track = track_of(body, com=com, number=number)
    if track is None:
        raise TrackingUnavailable("answer is not a track")
    return track


def subscribe_answer(body: Any) -> None:
    """Subscribed (200, or already: 501), or :class:`TrackingRefused` (assumed: 600 not a valid
    subscriber, 700 bad data, 701 carrier refused, 702 number not recognised, 500 server error)."""
    if not isinstance(body, Mapping) or ("returnCode" not in body and "result" not in body):
        raise TrackingUnavailable("answer is not the subscription's")
    code = str(body.get("returnCode") or ("200" if body.get("result") is True else ""))
    if code not in SUBSCRIBED_CODES:
        raise TrackingRefused(code, _clip(body.get("message"), 100))


def push_of(form: Mapping[str, str], salt: str) -> Push | None:
    """The push, when signed with our salt (None: not the service's, or not readable)."""
    param = form.get("param") or ""
    if not param or (salt and not hmac.compare_digest(form.get("sign") or "", push_sign(param, salt))):
        return None
    try:
        raw = json.loads(param)
    except ValueError:
        return None
    if not isinstance(raw, Mapping):
        return None
    return Push(
        status=str(raw.get("status") or "")[:20], message=_clip(raw.get("message"), 100),
        track=track_of(raw.get("lastResult")),
        com_new=str(raw["comNew"])[:30] if raw.get("autoCheck") == "1" and raw.get("comNew") else None,
    )
