"""Which WeChat subscription template each event kind uses, and where each keyword's value comes from.

Template ids come from the settings (they differ per mini program); the keyword names are
the template's own (WeChat fixes them when the template is chosen) and their type is the
name's prefix (``thing2`` -> ``thing``), checked when the table is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bff.wechat.value_rules import key_type


class EventKind(StrEnum):
    ORDER_STATUS = "order_status"
    PRODUCTION_DONE = "production_done"
    ORDER_SHIPPED = "order_shipped"
    ADMIN_ALERT = "admin_alert"
    PROGRESS = "progress"  # partial production/shipping: timeline only, never sent
    PARCEL_SIGNED = "parcel_signed"  # the parcel's track says 已签收 (bff/notify/tracks.py)
    PARCEL_PROBLEM = "parcel_problem"  # 运输异常: the track says 疑难, refused, returned


# Kinds a purchaser may switch off in their settings.
USER_KINDS = (EventKind.ORDER_STATUS, EventKind.PRODUCTION_DONE, EventKind.ORDER_SHIPPED)
# A parcel's news is an order status update to a purchaser: sent with that template (their
# "订单状态更新" grants), switched off with it.
SENT_AS: dict[EventKind, EventKind] = {EventKind.PARCEL_SIGNED: EventKind.ORDER_STATUS, EventKind.PARCEL_PROBLEM: EventKind.ORDER_STATUS}


def switched_by(kind: EventKind) -> EventKind:
    """The kind whose setting allows or silences ``kind``."""
    return SENT_AS.get(kind, kind)


@dataclass(frozen=True)
class TemplateSpec:
    kind: EventKind
    template_id: str
    title: str  # shown in the message centre
    fields: dict[str, str]  # keyword -> name of the fact that fills it

    def key_types(self) -> dict[str, str]:
        return {key: key_type(key) or "" for key in self.fields}


# Keyword -> fact, per kind (the simulator's templates mirror WeChat's library entries).
_STATUS_FIELDS = {  # the order-status template: parcel messages are sent with it too
    "character_string1": "order_code", "thing2": "summary", "phrase3": "status", "time4": "time", "thing5": "remark",
}
_FIELDS: dict[EventKind, tuple[str, dict[str, str]]] = {
    EventKind.ORDER_STATUS: ("订单状态更新", _STATUS_FIELDS),
    EventKind.PRODUCTION_DONE: ("订单生产完成", {
        "character_string1": "order_code", "thing2": "product", "number3": "quantity",
        "time4": "time", "thing5": "remark",
    }),
    EventKind.ORDER_SHIPPED: ("订单已发货", {
        "character_string1": "order_code", "thing2": "summary", "thing3": "logistics_company",
        "character_string4": "tracking_number", "time5": "time",
    }),
    EventKind.PARCEL_SIGNED: ("物流已签收", _STATUS_FIELDS),
    EventKind.PARCEL_PROBLEM: ("物流运输异常", _STATUS_FIELDS),
    EventKind.ADMIN_ALERT: ("系统告警", {
        "thing1": "content", "phrase2": "level", "time3": "time", "thing4": "advice",
    }),
}


@dataclass(frozen=True)
class TemplateIds:
    """The WeChat template id configured for each sent kind (``BFF_TPL_*``)."""

    order_status: str
    production_done: str
    order_shipped: str
    admin_alert: str


class Templates:
    """The configured templates, by kind and by template id."""

    def __init__(self, template_ids: TemplateIds) -> None:
        ids = {
            EventKind.ORDER_STATUS: template_ids.order_status,
            EventKind.PRODUCTION_DONE: template_ids.production_done,
            EventKind.ORDER_SHIPPED: template_ids.order_shipped,
            EventKind.ADMIN_ALERT: template_ids.admin_alert,
        }
        self.by_kind: dict[EventKind, TemplateSpec] = {}
        for kind, (title, fields) in _FIELDS.items():
            for key in fields:
                if key_type(key) is None:
                    raise ValueError(f"template keyword {key!r} does not name a WeChat value type")
            self.by_kind[kind] = TemplateSpec(kind, ids[SENT_AS.get(kind, kind)], title, dict(fields))
        # A template id names the kind it was chosen for (the parcel kinds borrow ORDER_STATUS's).
        self.by_id = {spec.template_id: spec for spec in self.by_kind.values() if spec.kind not in SENT_AS}

    def for_kind(self, kind: EventKind | str) -> TemplateSpec | None:
        return self.by_kind.get(EventKind(kind)) if kind in EventKind._value2member_map_ else None

    def for_id(self, template_id: str) -> TemplateSpec | None:
        return self.by_id.get(template_id)
