"""One message per (event, user following its order): shared by the change watcher and the
parcel tracks (bff/notify/tracks.py), which choose each parcel event's recipients themselves
(:func:`addressed`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import col, select

from bff.notify.follows import followers
from bff.notify.outbox import MessageState, NewMessage
from bff.notify.prefs import Preferences
from bff.notify.render import order_page, render
from bff.notify.templates import EventKind, Templates, switched_by
from bff.store.tables import MessageLog, OrderEvent, SubscriptionGrant


@dataclass
class Event:
    row: OrderEvent
    kind: EventKind
    facts: dict[str, Any]
    summary: str
    title: str  # names the order and what changed: "SO2026112001 已发货 · 圆通速递 YT…"
    shipment_id: str | None = None  # a parcel's event: the message opens its track
    once_per: str | None = None  # what a user is told once (the dedupe key's stem); None: this event row


async def fan_out(
    s: Any, templates: Templates, events: list[Event], openids: list[str], prefs: dict[str, Preferences], now: datetime,
) -> list[NewMessage]:
    """One message per (event, user following its order); a user who follows neither the order
    nor every order gets nothing, and spends nothing (see :func:`addressed`)."""
    if not events:
        return []
    following = await followers(await s.connection(), openids, {e.row.order_id for e in events})
    users = sorted(set(openids))
    return await addressed(s, templates, [
        (event, [openid for openid in users
                 if prefs.get(openid, Preferences()).follow_all or (openid, event.row.order_id) in following])
        for event in events
    ], prefs, now)


async def addressed(
    s: Any, templates: Templates, recipients: list[tuple[Event, list[str]]], prefs: dict[str, Preferences], now: datetime,
) -> list[NewMessage]:
    """One message per event and each of its recipients: queued when the user holds a grant and
    allows the kind, else recorded as skipped with the reason. Grants claimed by queued messages
    count; grants and queued messages are read once for all the events."""
    openids = sorted({openid for _, users in recipients for openid in users})
    if not openids:
        return []
    grants = {(g.openid, g.template_id): g.remaining for g in (await s.exec(
        select(SubscriptionGrant).where(col(SubscriptionGrant.openid).in_(openids)))).all()}
    pending = await s.exec(
        select(MessageLog.openid, MessageLog.template_id, func.count()).where(
            col(MessageLog.openid).in_(openids), col(MessageLog.msg_status).in_([MessageState.QUEUED, MessageState.SENDING])
        ).group_by(MessageLog.openid, MessageLog.template_id)
    )
    for openid, template_id, count in pending.all():
        grants[(openid, template_id)] = grants.get((openid, template_id), 0) - int(count)
    messages = []
    for event, users in recipients:
        spec = templates.for_kind(event.kind)
        if spec is None:
            continue  # timeline-only kind
        for openid in users:
            user = prefs.get(openid, Preferences())
            message = NewMessage(
                openid=openid, template_id=spec.template_id, data={},
                dedupe_key=f"{event.once_per or event.row.event_id}:{openid}",
                kind=event.kind.value, order_id=event.row.order_id, title=event.title, summary=event.summary,
                company_id=event.row.customer_id,  # the order's company: the recipient's while bound to it
            )
            message.page = order_page(event.row.order_id, message.msg_id, event.shipment_id)
            message.data = render(spec, event.facts, now)
            if not user.allows(switched_by(event.kind)):
                message.state, message.error_detail = MessageState.SKIPPED, "skipped: the user switched this kind off"
            elif grants.get((openid, spec.template_id), 0) <= 0:
                message.state, message.error_detail = MessageState.SKIPPED, "skipped: no subscription grant for this template"
            else:
                grants[(openid, spec.template_id)] -= 1
                quiet_until = user.quiet_until(now)
                message.not_before = quiet_until.astimezone(UTC) if quiet_until else None
            messages.append(message)
    return messages
