"""The message centre's domain objects, and a message sent on request (administrators, services).

The GraphQL layer only checks who may ask and shapes pages; building, validating and queueing
a WeChat message happens here, beside the outbox that sends it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bff.core.clock import aware
from bff.core.domain import Binding
from bff.core.errors import BffError, ErrorCode
from bff.core.security import new_id
from bff.notify.outbox import Bound, MessageState, NewMessage, Outbox, company_of
from bff.notify.render import fit_value
from bff.notify.templates import Templates
from bff.store.tables import MessageLog

MAX_WAIT_S = 5.0
UNSENT_STATES = frozenset({MessageState.FAILED, MessageState.SKIPPED, MessageState.UNKNOWN})


@dataclass(frozen=True)
class Message:
    id: str
    kind: str | None
    title: str
    summary: str | None
    order_id: str | None
    page: str | None
    state: str | None  # the outbox state: operators only (purchasers see read or unread)
    created_at: datetime | None
    sent_at: datetime | None
    read: bool


@dataclass(frozen=True)
class Audience:
    """Whose message centre: a user as bound now. Their messages of another company (an earlier
    binding) are not shown, counted or marked read. A message without a company (queued before
    migration 0008, or sent on request while the user was unbound) is shown only if it was made
    during the current binding: rows of an earlier binding stay hidden once the user rebinds."""

    openid: str
    bound: Bound

    @classmethod
    def of(cls, openid: str, binding: Binding) -> Audience:
        return cls(openid, Bound(company_of(binding.role.value, binding.company.id), aware(binding.bound_at)))


def message_from_row(row: MessageLog, operator: bool) -> Message:
    return Message(row.msg_id, row.kind, row.title or "通知", row.summary, row.order_id, row.page,
                   row.msg_status if operator else None, aware(row.created_at), aware(row.sent_at), row.read_at is not None)


@dataclass(frozen=True)
class SendResult:
    msgid: str
    status: str
    send_time: datetime | None
    errcode: int | None
    error: str | None


def _bad(message: str, field: str) -> BffError:
    return BffError(ErrorCode.BAD_USER_INPUT, message, field=field)


class ManualSender:
    """``sendTemplateMessage``: a template's values fitted to WeChat's rules, queued in the outbox."""

    def __init__(self, templates: Templates, outbox: Outbox) -> None:
        self._templates = templates
        self._outbox = outbox

    async def send(
        self, openid: str, template_id: str, data: object, page: str | None, *, wait: bool, session_id: str | None,
        now: datetime,
    ) -> SendResult:
        spec = self._templates.for_id(template_id)
        if spec is None:
            raise _bad("未知的订阅消息模板", "templateId")
        if not isinstance(data, dict):
            raise _bad("data 必须是对象", "data")
        values: dict[str, str] = {}
        for key, kind in spec.key_types().items():
            entry = data.get(key)
            raw = entry.get("value") if isinstance(entry, dict) else entry
            if raw is None or str(raw).strip() == "":
                raise _bad(f"缺少模板字段 {key}", "data")
            values[key] = fit_value(kind, raw, now)
        if not openid or len(openid) > 100:
            raise _bad("openid 无效", "openid")
        if page is not None and (len(page) > 500 or not page.startswith("pages/")):
            raise _bad("page 必须是小程序页面路径（pages/...）", "page")
        order_code = next((values[k] for k, fact in spec.fields.items() if fact == "order_code"), None)
        title = f"{order_code} {spec.title}" if order_code else spec.title  # messages name their order
        bound = (await self._outbox.bindings([openid])).get(openid)  # None: an unbound user, sent as before
        message = NewMessage(openid=openid, template_id=template_id, data=values, dedupe_key=f"manual:{new_id()}",
                             kind=spec.kind.value, page=page, title=title, summary=None, session_id=session_id,
                             company_id=bound.company_id if bound else None)
        await self._outbox.enqueue([message])
        row = await (self._outbox.wait_for(message.msg_id, MAX_WAIT_S) if wait else self._outbox.get(message.msg_id))
        assert row is not None
        return SendResult(row.msg_id, row.msg_status, aware(row.sent_at), row.wx_errcode,
                          row.error_detail if row.msg_status in UNSENT_STATES else None)
