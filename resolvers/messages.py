"""Subscription grants, the message centre, notification settings and sending on request."""

from __future__ import annotations

from dataclasses import dataclass

from bff.core.domain import Order, Permission, Viewer
from bff.core.errors import BffError, ErrorCode
from bff.core.security import same_secret
from bff.notify.messages import Audience, Message, SendResult
from bff.notify.prefs import Preferences, valid_hhmm
from bff.notify.templates import USER_KINDS, EventKind
from resolvers.context import Info
from resolvers.inputs import bad_input
from resolvers.monitoring import is_admin_token


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
    follow_all: bool = False
    timezone: str = "Asia/Shanghai"


async def _user(info: Info) -> Viewer:
    return await info.context.require(Permission.MESSAGES_READ)


async def messages(info: Info, page: int, page_size: int) -> MessagePage:
    viewer = await _user(info)
    max_size = info.context.services.settings.max_page_size
    if page < 1 or not 1 <= page_size <= max_size:
        raise bad_input(f"页码从 1 开始，每页条数在 1 到 {max_size} 之间", "page")
    notify = info.context.services.notify
    operator = Permission.MONITORING_READ in viewer.permissions
    audience = _audience(viewer)
    total, items = await notify.messages(audience, page, page_size, operator=operator)
    return MessagePage(items, total, page, page_size, await notify.unread(audience))


def _audience(viewer: Viewer) -> Audience:
    """The user's centre as bound now: a rebound user sees none of the earlier company's messages."""
    assert viewer.binding is not None  # MESSAGES_READ needs a binding
    return Audience.of(viewer.openid, viewer.binding)


async def mark_read(info: Info, msg_id: str) -> bool:
    viewer = await _user(info)
    if not await info.context.services.notify.mark_read(_audience(viewer), msg_id[:64]):
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
    return NotificationSettings([k for k in USER_KINDS if prefs.allows(k)], prefs.dnd_start, prefs.dnd_end, prefs.follow_all)


async def update_notification_settings(
    info: Info, enabled_kinds: list[EventKind] | None, dnd_start: str | None, dnd_end: str | None,
    follow_all: bool | None = None,
) -> NotificationSettings:
    viewer = await _user(info)
    if not valid_hhmm(dnd_start) or not valid_hhmm(dnd_end):
        raise bad_input("免打扰时间格式应为 HH:MM（北京时间）", "dndStart")
    if (dnd_start is None) != (dnd_end is None):
        raise bad_input("免打扰开始和结束时间需同时填写", "dndEnd")
    store = info.context.services.notify.prefs
    current = await store.get(viewer.openid)
    disabled = current.disabled if enabled_kinds is None else frozenset(k for k in USER_KINDS if k not in enabled_kinds)
    follow = current.follow_all if follow_all is None else follow_all
    return _settings(await store.save(viewer.openid, Preferences(disabled, dnd_start, dnd_end, follow)))


async def follow_order(info: Info, order_id: str, follow: bool) -> bool:
    """订阅此订单: the watcher spends the caller's grants on this order's changes (their company's only)."""
    loaders = await info.context.order_loaders()  # a bound purchaser
    viewer = await info.context.require_viewer()
    order: Order | None = await loaders["order"].load(order_id[:40])
    if order is None:
        raise BffError(ErrorCode.NOT_FOUND, "未找到该订单，请确认单号是否属于贵司")
    return await info.context.services.notify.follows.change(viewer.openid, order.id, follow)


async def _may_send(info: Info) -> str | None:
    """Administrators (bound admin session or BFF_ADMIN_TOKEN, as the README says of admin APIs)
    or a caller presenting BFF_SERVICE_KEY."""
    if is_admin_token(info.context):
        return None
    expected = info.context.services.settings.service_key.get_secret_value()
    given = info.context.service_key
    if given is not None:
        if same_secret(given, expected):
            return None
        raise BffError(ErrorCode.UNAUTHENTICATED, "服务密钥无效")
    viewer = await info.context.require(Permission.MESSAGES_SEND)
    return viewer.session_id


async def send_template_message(
    info: Info, openid: str, template_id: str, data: object, page: str | None, wait: bool
) -> SendResult:
    session_id = await _may_send(info)
    notify = info.context.services.notify
    return await notify.manual.send(openid, template_id, data, page, wait=wait, session_id=session_id, now=notify.clock())
