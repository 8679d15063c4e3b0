"""Subscription grants, the message centre, notification settings and sending on request."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime

from bff.domain import Permission, Viewer
from bff.errors import BffError, ErrorCode
from bff.notify.clock import aware
from bff.notify.outbox import NewMessage
from bff.notify.prefs import Preferences, valid_hhmm
from bff.notify.render import fit_value
from bff.notify.templates import USER_KINDS, EventKind
from bff.security import new_id
from bff.store.tables import MessageLog
from resolvers.context import Info
from resolvers.inputs import bad_input

MAX_WAIT_S = 5.0


@dataclass(frozen=True)
class Message:
    id: str
    kind: str | None
    title: str
    summary: str | None
    order_id: str | None
    page: str | None
    state: str
    created_at: datetime | None
    sent_at: datetime | None
    read: bool


@dataclass(frozen=True)
class MessagePage:
    items: list[Message]
    total: int
    page: int
    page_size: int
    unread: int


@dataclass(frozen=True)
class Grant:
    template_id: str
    kind: str | None
    remaining: int


@dataclass(frozen=True)
class NotificationSettings:
    enabled_kinds: list[EventKind]
    dnd_start: str | None
    dnd_end: str | None
    timezone: str = "Asia/Shanghai"


@dataclass(frozen=True)
class SendResult:
    msgid: str
    status: str
    send_time: datetime | None
    errcode: int | None
    error: str | None


def message_from_row(row: MessageLog) -> Message:
    return Message(row.msg_id, row.kind, row.title or "通知", row.summary, row.order_id, row.page, row.msg_status,
                   aware(row.created_at), aware(row.sent_at), row.read_at is not None)


async def _user(info: Info) -> Viewer:
    return await info.context.require(Permission.MESSAGES_READ)


async def messages(info: Info, page: int, page_size: int) -> MessagePage:
    viewer = await _user(info)
    max_size = info.context.services.settings.max_page_size
    if page < 1 or not 1 <= page_size <= max_size:
        raise bad_input(f"页码从 1 开始，每页条数在 1 到 {max_size} 之间", "page")
    notify = info.context.services.notify
    total, rows = await notify.messages(viewer.openid, page, page_size)
    return MessagePage([message_from_row(r) for r in rows], total, page, page_size, await notify.unread(viewer.openid))


async def mark_read(info: Info, msg_id: str) -> bool:
    viewer = await _user(info)
    if not await info.context.services.notify.mark_read(viewer.openid, msg_id[:64]):
        raise BffError(ErrorCode.NOT_FOUND, "未找到该消息")
    return True


async def grants(info: Info) -> list[Grant]:
    viewer = await info.context.require_viewer()
    notify = info.context.services.notify
    counts = await notify.grants.remaining(viewer.openid)
    result = []
    for spec in notify.templates.by_kind.values():
        result.append(Grant(spec.template_id, spec.kind.value, counts.get(spec.template_id, 0)))
    return result


async def record_subscriptions(info: Info, results: list[tuple[str, bool]]) -> list[Grant]:
    """After wx.requestSubscribeMessage: one grant per accepted template (rejects grant nothing)."""
    viewer = await info.context.require_viewer()
    notify = info.context.services.notify
    if not results or len(results) > 10:
        raise bad_input("请提供 1 到 10 个订阅结果", "results")
    unknown = [t for t, _ in results if notify.templates.for_id(t) is None]
    if unknown:
        raise bad_input("未知的订阅消息模板", "results")
    await notify.grants.add(viewer.openid, [t for t, accepted in results if accepted])
    return await grants(info)


async def notification_settings(info: Info) -> NotificationSettings:
    viewer = await _user(info)
    prefs = await info.context.services.notify.prefs.get(viewer.openid)
    return _settings(prefs)


def _settings(prefs: Preferences) -> NotificationSettings:
    return NotificationSettings([k for k in USER_KINDS if prefs.allows(k)], prefs.dnd_start, prefs.dnd_end)


async def update_notification_settings(
    info: Info, enabled_kinds: list[EventKind] | None, dnd_start: str | None, dnd_end: str | None
) -> NotificationSettings:
    viewer = await _user(info)
    if not valid_hhmm(dnd_start) or not valid_hhmm(dnd_end):
        raise bad_input("免打扰时间格式应为 HH:MM（北京时间）", "dndStart")
    if (dnd_start is None) != (dnd_end is None):
        raise bad_input("免打扰开始和结束时间需同时填写", "dndEnd")
    store = info.context.services.notify.prefs
    current = await store.get(viewer.openid)
    disabled = current.disabled if enabled_kinds is None else frozenset(k for k in USER_KINDS if k not in enabled_kinds)
    return _settings(await store.save(viewer.openid, Preferences(disabled, dnd_start, dnd_end)))


async def _may_send(info: Info) -> str | None:
    """Administrators (bound admin session) or a caller presenting BFF_SERVICE_KEY."""
    expected = info.context.services.settings.service_key.get_secret_value()
    given = info.context.service_key
    if given is not None:
        if expected and hmac.compare_digest(given.encode(), expected.encode()):
            return None
        raise BffError(ErrorCode.UNAUTHENTICATED, "服务密钥无效")
    viewer = await info.context.require(Permission.MESSAGES_SEND)
    return viewer.session_id


async def send_template_message(
    info: Info, openid: str, template_id: str, data: object, page: str | None, wait: bool
) -> SendResult:
    session_id = await _may_send(info)
    notify = info.context.services.notify
    spec = notify.templates.for_id(template_id)
    if spec is None:
        raise bad_input("未知的订阅消息模板", "templateId")
    if not isinstance(data, dict):
        raise bad_input("data 必须是对象", "data")
    values: dict[str, str] = {}
    now = notify.clock()
    for key, kind in spec.key_types().items():
        entry = data.get(key)
        raw = entry.get("value") if isinstance(entry, dict) else entry
        if raw is None or str(raw).strip() == "":
            raise bad_input(f"缺少模板字段 {key}", "data")
        values[key] = fit_value(kind, raw, now)
    if not openid or len(openid) > 100:
        raise bad_input("openid 无效", "openid")
    if page is not None and (len(page) > 500 or not page.startswith("pages/")):
        raise bad_input("page 必须是小程序页面路径（pages/...）", "page")
    message = NewMessage(openid=openid, template_id=template_id, data=values, dedupe_key=f"manual:{new_id()}",
                         kind=spec.kind.value, page=page, title=spec.title, summary=None, session_id=session_id)
    await notify.outbox.enqueue([message])
    row = await (notify.outbox.wait_for(message.msg_id, MAX_WAIT_S) if wait else notify.outbox.get(message.msg_id))
    assert row is not None
    return SendResult(row.msg_id, row.msg_status, aware(row.sent_at), row.wx_errcode,
                      row.error_detail if row.msg_status in ("failed", "skipped") else None)
