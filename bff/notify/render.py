"""Event facts -> a subscription message WeChat will accept.

Every value is fitted to its keyword's type rule (``value_rules.fit``: shortened where
the rule allows); a value that cannot be made valid (e.g. a quantity with no number in it)
is replaced by a neutral placeholder, because WeChat refuses the whole message over one
bad value (47003) and the rest of the message is still worth delivering.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from bff.notify.templates import TemplateSpec
from bff.wechat.value_rules import fit, violation

CHINA = ZoneInfo("Asia/Shanghai")
ORDER_PAGE = "pages/order/order"  # the mini program's order detail page (miniprogram/src/app.json)

_PLACEHOLDERS: dict[str, str] = {
    "thing": "无", "number": "0", "letter": "NA", "symbol": "-", "character_string": "-",
    "amount": "¥0", "phone_number": "0", "car_number": "-", "name": "客户", "phrase": "已更新",
}


def china_time(moment: datetime) -> str:
    """``2026年11月26日 15:01`` in Beijing time: WeChat's time/date format."""
    local = moment.astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日 {local.hour:02d}:{local.minute:02d}"


def _placeholder(kind: str, now: datetime) -> str:
    if kind in ("time", "date"):
        return china_time(now)
    return _PLACEHOLDERS[kind]


def fit_value(kind: str, raw: object, now: datetime) -> str:
    text = "" if raw is None else str(raw)
    if text.strip():
        try:
            value = fit(kind, text)
        except ValueError:
            value = _placeholder(kind, now)
    else:
        value = _placeholder(kind, now)
    if violation(kind, value) is not None:  # a safety net: never queue what WeChat refuses
        value = _placeholder(kind, now)
    return value


def render(spec: TemplateSpec, facts: Mapping[str, object], now: datetime) -> dict[str, str]:
    """The message's ``data`` (keyword -> value), every value valid for its type."""
    facts = {"time": china_time(now), **{k: v for k, v in facts.items() if v not in (None, "")}}
    return {key: fit_value(kind, facts.get(spec.fields[key]), now) for key, kind in spec.key_types().items()}


def order_page(order_id: str, msg_id: str, shipment_id: str | None = None) -> str:
    """The order page a message opens; ``msg`` lets the page mark the message read; ``shipment``
    opens that shipment's parcel track."""
    page = f"{ORDER_PAGE}?id={order_id}&msg={msg_id}"
    return f"{page}&shipment={shipment_id}" if shipment_id else page
