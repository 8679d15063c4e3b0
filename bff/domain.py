"""Plain dataclasses shared by every layer. Strawberry types in ``schema/`` mirror their fields."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Role(StrEnum):
    PURCHASER = "purchaser"
    ADMIN = "admin"


class Permission(StrEnum):
    ORDERS_READ = "orders:read"
    MESSAGES_READ = "messages:read"
    MESSAGES_SEND = "messages:send"
    MONITORING_READ = "monitoring:read"


ROLE_PERMISSIONS: dict[Role, tuple[Permission, ...]] = {
    Role.PURCHASER: (Permission.ORDERS_READ, Permission.MESSAGES_READ),
    Role.ADMIN: (Permission.MESSAGES_READ, Permission.MESSAGES_SEND, Permission.MONITORING_READ),
}


@dataclass(frozen=True)
class Company:
    id: str | None
    name: str
    code: str | None = None
    abbr: str | None = None
    province: str | None = None
    city: str | None = None
    contact: str | None = None
    mobile: str | None = None  # masked before it leaves the BFF
    disabled: bool = False


@dataclass(frozen=True)
class Binding:
    binding_id: str
    company: Company
    role: Role
    method: str
    bound_at: datetime
    erp_username: str = ""

    @property
    def permissions(self) -> list[Permission]:
        return list(ROLE_PERMISSIONS[self.role])


@dataclass
class Viewer:
    """Who is asking: the authenticated WeChat user, their session and their binding."""

    openid: str
    session_id: str
    unionid: str | None
    expires_at: datetime
    nickname: str | None = None
    avatar_url: str | None = None
    binding: Binding | None = None
    login_source: str = "code"

    @property
    def permissions(self) -> list[Permission]:
        return self.binding.permissions if self.binding else []

    @property
    def customer_id(self) -> str | None:
        return self.binding.company.id if self.binding and self.binding.role is Role.PURCHASER else None


@dataclass(frozen=True)
class LoginResult:
    token: str
    openid: str
    unionid: str | None
    expires_at: datetime
    viewer: Viewer = field(repr=False)
