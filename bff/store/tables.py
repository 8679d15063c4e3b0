"""SQLModel tables: the seed's four tables plus ``wx_users``.

The BFF keeps no order data. Times are aware UTC datetimes (sqlmodel's UTCDateTime).
Migrations in ``bff/store/migrations`` create these tables; a test checks that the
migrated schema matches these definitions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Text
from sqlmodel import Field, SQLModel


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

    msg_id: str = Field(primary_key=True, max_length=64)
    session_id: str | None = Field(default=None, index=True, max_length=64)
    openid: str | None = Field(default=None, index=True, max_length=100)
    template_id: str = Field(index=True, max_length=100)
    msg_content: str | None = Field(default=None, sa_type=Text)
    msg_status: str = Field(default="sent", max_length=20)
    sent_at: datetime | None = Field(default=None, index=True)
    error_detail: str | None = Field(default=None, sa_type=Text)
