"""Subscription grants, the message centre, notification settings, sending template messages."""

from __future__ import annotations

from datetime import datetime
from enum import Enum

import strawberry
from strawberry.scalars import JSON

from bff.notify.messages import SendResult
from bff.notify.templates import EventKind
from resolvers import messages as resolve
from resolvers.context import Info


# A subset of bff.notify's EventKind (admin alerts and progress notes are never switched by users).
@strawberry.enum(description="Kinds of notification a purchaser can switch on or off")
class NotificationKind(Enum):
    ORDER_STATUS = EventKind.ORDER_STATUS.value
    PRODUCTION_DONE = EventKind.PRODUCTION_DONE.value
    ORDER_SHIPPED = EventKind.ORDER_SHIPPED.value


@strawberry.type(description="A message in the user's message centre")
class Message:
    id: strawberry.ID
    kind: str | None
    title: str
    summary: str | None
    order_id: strawberry.ID | None
    page: str | None = strawberry.field(description="Mini program page it opens; carries msg=<id>")
    state: str | None = strawberry.field(
        description="queued, sending, sent, failed or skipped: for administrators only (null for purchasers, who see read)")
    created_at: datetime | None
    sent_at: datetime | None
    read: bool


@strawberry.type
class MessagePage:
    items: list[Message]
    total: int
    page: int
    page_size: int
    unread: int


@strawberry.type(description="Sends of a template the user has accepted and not yet received")
class SubscriptionGrant:
    template_id: str
    kind: str | None
    remaining: int


@strawberry.input
class SubscriptionResultInput:
    template_id: str
    accepted: bool


@strawberry.type
class NotificationSettings:
    enabled_kinds: list[NotificationKind]
    dnd_start: str | None = strawberry.field(description="Do-not-disturb start, HH:MM Beijing time")
    dnd_end: str | None
    follow_all: bool = strawberry.field(description="订阅全部订单: messages about every order, not only followed ones")
    timezone: str


@strawberry.input
class NotificationSettingsInput:
    enabled_kinds: list[NotificationKind] | None = None
    dnd_start: str | None = None
    dnd_end: str | None = None
    follow_all: bool | None = None


@strawberry.type
class SendTemplateResult:
    msgid: strawberry.ID = strawberry.field(description="The BFF's message id")
    status: str
    send_time: datetime | None
    errcode: int | None
    error: str | None


@strawberry.type
class MessageQuery:
    @strawberry.field(description="The message centre, newest first", graphql_type=MessagePage)
    async def messages(self, info: Info, page: int = 1, page_size: int = 20) -> resolve.MessagePage:
        return await resolve.messages(info, page, page_size)

    @strawberry.field(description="The user's remaining subscription grants per template", graphql_type=list[SubscriptionGrant])
    async def subscription_grants(self, info: Info) -> list[resolve.Grant]:
        return await resolve.grants(info)

    @strawberry.field(graphql_type=NotificationSettings)
    async def notification_settings(self, info: Info) -> resolve.NotificationSettings:
        return await resolve.notification_settings(info)


@strawberry.type
class MessageMutation:
    @strawberry.mutation(
        description="Record the outcome of wx.requestSubscribeMessage: each accept is one send", graphql_type=list[SubscriptionGrant]
    )
    async def record_subscriptions(self, info: Info, results: list[SubscriptionResultInput]) -> list[resolve.Grant]:
        return await resolve.record_subscriptions(info, [(r.template_id, r.accepted) for r in results])

    @strawberry.mutation(description="Mark a message read (the page it links to calls this with its msg id)")
    async def mark_message_read(self, info: Info, id: strawberry.ID) -> bool:
        return await resolve.mark_read(info, str(id))

    @strawberry.mutation(graphql_type=NotificationSettings)
    async def update_notification_settings(
        self, info: Info, input: NotificationSettingsInput
    ) -> resolve.NotificationSettings:
        kinds = None if input.enabled_kinds is None else [EventKind(k.value) for k in input.enabled_kinds]
        return await resolve.update_notification_settings(info, kinds, input.dnd_start, input.dnd_end, input.follow_all)

    @strawberry.mutation(description="订阅此订单: follow (or stop following) one order's changes; answers the new state")
    async def follow_order(self, info: Info, id: strawberry.ID, follow: bool = True) -> bool:
        return await resolve.follow_order(info, str(id), follow)

    @strawberry.mutation(
        description="Queue a subscription message (administrators or X-Service-Key); wait ≤ 5 s for the outcome",
        graphql_type=SendTemplateResult,
    )
    async def send_template_message(
        self, info: Info, openid: str, template_id: str, data: JSON, page: str | None = None, wait: bool = False
    ) -> SendResult:
        return await resolve.send_template_message(info, openid, template_id, data, page, wait)
