"""SQLModel tables: the seed's four tables plus ``wx_users``.

The BFF keeps no order data. Times are aware UTC datetimes (sqlmodel's UTCDateTime).
Migrations in ``bff/store/migrations`` create these tables; a test checks that the
migrated schema matches these definitions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, LargeBinary, Text
from sqlalchemy.dialects.mysql import MEDIUMBLOB
from sqlmodel import Field, SQLModel

# Image bytes: MySQL's BLOB stops at 64 KB, so MEDIUMBLOB there.
ImageBytes = LargeBinary().with_variant(MEDIUMBLOB(), "mysql")


class WxUser(SQLModel, table=True):
    """One WeChat user of the mini program, by openid (the seed keeps users only in sessions;
    bindings must survive a new login, so they hang on the openid)."""

    __tablename__ = "wx_users"

    openid: str = Field(primary_key=True, max_length=100)
    unionid: str | None = Field(default=None, max_length=100)
    nickname: str | None = Field(default=None, max_length=64)
    avatar_url: str | None = Field(default=None, max_length=500)
    created_at: datetime
    updated_at: datetime


class UserSession(SQLModel, table=True):
    """A BFF login session. ``session_id`` is the HMAC of the bearer token, never the token."""

    __tablename__ = "user_sessions"

    session_id: str = Field(primary_key=True, max_length=64)
    openid: str = Field(index=True, max_length=100)
    session_key: str | None = Field(default=None, max_length=255)  # encrypted at rest
    unionid: str | None = Field(default=None, max_length=100)
    created_at: datetime
    expires_at: datetime = Field(index=True)
    is_active: bool = True
    last_seen_at: datetime | None = None
    login_source: str = Field(default="code", max_length=16)  # code | wx_header | demo


class ErpBinding(SQLModel, table=True):
    """Which ERP customer (or the wholesaler itself, for administrators) a WeChat user acts for."""

    __tablename__ = "erp_bindings"

    binding_id: str = Field(primary_key=True, max_length=64)
    session_id: str = Field(index=True, max_length=64)  # the session that bound
    openid: str = Field(index=True, max_length=100)
    erp_username: str = Field(index=True, max_length=100)  # "" for an invite-code binding
    company_id: str | None = Field(default=None, max_length=50)
    company_name: str | None = Field(default=None, max_length=200)
    role: str = Field(default="purchaser", max_length=16)  # purchaser | admin
    method: str = Field(default="invite", max_length=16)  # invite | account
    bound_at: datetime
    is_valid: bool = True
    unbound_at: datetime | None = None
    invite_code_digest: str | None = Field(default=None, max_length=64)  # HMAC of the code bound with
    ended_reason: str | None = Field(default=None, max_length=32)  # unbound | company_disabled | revoked ...


class ApiCallLog(SQLModel, table=True):
    __tablename__ = "api_call_logs"

    log_id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=64)
    api_endpoint: str = Field(index=True, max_length=200)
    request_method: str = Field(max_length=10)
    request_params: str | None = Field(default=None, sa_type=Text)  # masked and truncated
    response_status: int | None = None
    response_data: str | None = Field(default=None, sa_type=Text)  # masked and truncated
    response_time_ms: int | None = None
    error_message: str | None = Field(default=None, sa_type=Text)
    called_at: datetime = Field(index=True)
    direction: str = Field(default="inbound", max_length=8)  # inbound | erp
    operation: str | None = Field(default=None, max_length=100)
    trace_id: str | None = Field(default=None, max_length=32)


class MessageLog(SQLModel, table=True):
    __tablename__ = "message_logs"
    # Migration 0008: the outbox's claim and backlog filter on the state and order by the due time.
    __table_args__ = (Index("ix_message_logs_status_due", "msg_status", "next_attempt_at"),)

    msg_id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=64)
    openid: str | None = Field(default=None, index=True, max_length=100)
    template_id: str = Field(index=True, max_length=100)
    msg_content: str | None = Field(default=None, sa_type=Text)
    msg_status: str = Field(default="sent", max_length=20)
    sent_at: datetime | None = Field(default=None, index=True)
    error_detail: str | None = Field(default=None, sa_type=Text)
    # Outbox columns (migration 0002): msg_status is queued | sending | sent | failed | skipped | unknown
    kind: str | None = Field(default=None, max_length=20)
    dedupe_key: str | None = Field(default=None, unique=True, index=True, max_length=191)
    attempts: int = 0
    next_attempt_at: datetime | None = Field(default=None, index=True)
    claimed_by: str | None = Field(default=None, max_length=64)
    claimed_at: datetime | None = None
    wx_errcode: int | None = None
    wx_msgid: str | None = Field(default=None, max_length=32)
    page: str | None = Field(default=None, max_length=500)
    order_id: str | None = Field(default=None, max_length=50)
    title: str | None = Field(default=None, max_length=100)
    summary: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = Field(default=None, index=True)
    read_at: datetime | None = None
    # Migration 0008: whose message it is: the ERP customer id of the company the recipient was
    # bound to (bff.notify.outbox.WHOLESALER for an administrator); NULL: from before 0008, or
    # sent on request to an unbound user. The centre shows, and the outbox sends, only messages
    # of the recipient's current company (bff/notify/outbox.py, bff/notify/service.py).
    company_id: str | None = Field(default=None, max_length=50)


# Notifications ---------------------------------------------------------------------------
# message_logs above doubles as the outbox (see bff/notify/outbox.py); the columns below
# were added by migration 0002.

class SubscriptionGrant(SQLModel, table=True):
    """How many more sends of a template a user has accepted (wx.requestSubscribeMessage)."""

    __tablename__ = "subscription_grants"

    openid: str = Field(primary_key=True, max_length=100)
    template_id: str = Field(primary_key=True, max_length=100)
    remaining: int = 0
    updated_at: datetime


class NotifyPreference(SQLModel, table=True):
    """A user's notification settings: kinds switched off and a do-not-disturb window (Asia/Shanghai)."""

    __tablename__ = "notify_preferences"

    openid: str = Field(primary_key=True, max_length=100)
    disabled_kinds: str = Field(default="", max_length=200)  # comma-separated EventKind values
    dnd_start: str | None = Field(default=None, max_length=5)  # "HH:MM"
    dnd_end: str | None = Field(default=None, max_length=5)
    follow_all: bool = False  # messages about every order of the company, not only the followed ones
    updated_at: datetime


class OrderFollow(SQLModel, table=True):
    """An order a user follows (订阅此订单): the watcher spends their grants on its changes only."""

    __tablename__ = "order_follows"

    openid: str = Field(primary_key=True, max_length=100)
    order_id: str = Field(primary_key=True, max_length=50, index=True)
    followed_at: datetime


class OrderSnapshot(SQLModel, table=True):
    """The last state of a non-final order the change watcher saw (no more than it needs to compare)."""

    __tablename__ = "order_snapshots"

    order_id: str = Field(primary_key=True, max_length=50)
    customer_id: str = Field(index=True, max_length=50)
    order_code: str = Field(max_length=64)
    status: str = Field(max_length=20)
    produced_ratio: float = 0.0
    shipped_ratio: float = 0.0
    shipments: str = Field(default="", sa_type=Text)  # JSON {shipment id: shipped flag}
    version: int = 0  # bumped on every observed change; part of event ids
    seen_at: datetime
    # Migration 0006: a hash of the order row's status, rates and totals (queries.WATCH_COLUMNS):
    # the watcher reads lines and deliveries only of orders whose digest moved.
    digest: str | None = Field(default=None, max_length=64)


class OrderEvent(SQLModel, table=True):
    """One change the watcher observed: feeds the notifications and the order timeline."""

    __tablename__ = "order_events"

    event_id: str = Field(primary_key=True, max_length=64)
    order_id: str = Field(index=True, max_length=50)
    customer_id: str = Field(max_length=50)
    kind: str = Field(max_length=20)
    old_value: str | None = Field(default=None, max_length=100)
    new_value: str | None = Field(default=None, max_length=100)
    detail: str | None = Field(default=None, sa_type=Text)  # JSON facts for rendering
    observed_at: datetime = Field(index=True)


class WorkerLease(SQLModel, table=True):
    """Which BFF instance runs a job until ``expires_at``: a singleton, or one partition of the
    change watcher's customers (``order-watcher:<count>:<n>``); also each live watcher's heartbeat."""

    __tablename__ = "worker_leases"

    name: str = Field(primary_key=True, max_length=50)
    holder: str = Field(max_length=64)
    expires_at: datetime


class AvatarImage(SQLModel, table=True):
    """A user's uploaded avatar, re-encoded (migration 0003_avatar_images). One per user: a new
    upload replaces it under a new ``avatar_id``, so its public URL can be cached for good."""

    __tablename__ = "avatar_images"

    openid: str = Field(primary_key=True, max_length=100)
    avatar_id: str = Field(unique=True, index=True, max_length=32)
    content_type: str = Field(max_length=32)
    data: bytes = Field(sa_type=ImageBytes)
    size: int
    created_at: datetime


class ParcelTrack(SQLModel, table=True):
    """A parcel's track from the tracking service, per tracking number (migration 0007): logistics
    data the BFF keeps, bounded (``events``: at most 100 points) and deleted at ``expires_at``
    (BFF_TRACKING_KEEP_DAYS after its last change, BFF_TRACKING_KEEP_SIGNED_DAYS after signing).
    Which orders it ships, so that a push reaches their followers. No phone number is kept."""

    __tablename__ = "parcel_tracks"

    number: str = Field(primary_key=True, max_length=40)
    com: str | None = Field(default=None, max_length=30)  # None: a carrier not followed (UNSUPPORTED)
    carrier: str | None = Field(default=None, max_length=50)  # the ERP's name of the carrier
    customer_id: str = Field(index=True, max_length=50)
    shipment_id: str = Field(max_length=50)
    order_ids: str = Field(default="[]", max_length=500)  # JSON list, the orders the shipment carries
    order_code: str = Field(default="", max_length=64)  # the first order's number, for messages
    # Migration 0009: JSON {order id: order number}, in the shipment's order, of every order it
    # carries that the change watcher read as the customer's: each one's followers are told ("{}":
    # a row made before, or by a purchaser's query: the first order's followers only).
    order_codes: str = Field(default="{}", max_length=1000, sa_column_kwargs={"server_default": "{}"})
    state: str = Field(default="UNKNOWN", max_length=20)  # domain.TrackingState
    raw_state: str = Field(default="", max_length=8)
    final: bool = False
    events: str = Field(default="[]", sa_type=Text)  # JSON [[time iso | null, text, location | null]], newest first
    newest_at: datetime | None = None  # time of the newest point: orders pushes that arrive late
    updated_at: datetime | None = None  # when a push or a query last changed it
    subscribed_at: datetime | None = None
    subscribe_note: str | None = Field(default=None, max_length=100)  # why not subscribed (return code)
    subscribe_attempts: int = 0
    queried_at: datetime | None = None  # the last real-time query (at most one per BFF_TRACKING_QUERY_EVERY_S)
    notified: str = Field(default="", max_length=40)  # states already notified: "SIGNED,PROBLEM"
    created_at: datetime
    expires_at: datetime = Field(index=True)


class AdminSession(SQLModel, table=True):
    """A login to /admin (migration 0008): the browser's cookie holds a random id, this row only
    its SHA-256. ``credential`` is the keyed digest (SecretKeys.digest) of what was posted: the
    administrator's session id, or of BFF_ADMIN_TOKEN, so the session ends with that session, that
    user's administrator binding or that token (bff/auth/admin_sessions.py)."""

    __tablename__ = "admin_sessions"

    id_hash: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=8)  # token | user
    principal: str = Field(max_length=100)  # "admin token" or the administrator's openid
    credential: str = Field(max_length=64)
    created_at: datetime
    expires_at: datetime = Field(index=True)
    last_seen_at: datetime
    revoked_at: datetime | None = None
    client_ip: str = Field(default="", max_length=64)
    user_agent: str = Field(default="", max_length=200)
