"""Administrators' user management: who is bound to a company, and revoking their access."""

from __future__ import annotations

from bff.core.domain import CompanyUser, Permission
from bff.store.tables import ErpBinding
from resolvers.context import Info
from resolvers.inputs import text


async def company_users(info: Info, company_id: str) -> list[CompanyUser]:
    await info.context.require(Permission.USERS_MANAGE)
    company_id = text(company_id, "companyId", max_len=50, required=True, label="企业编号") or ""
    services = info.context.services
    rows = await services.bindings.company_users(company_id)
    people = await services.sessions.people(sorted({r.openid for r in rows}))
    return [
        CompanyUser(r.binding_id, r.openid, people[r.openid][0], r.method, r.bound_at, people[r.openid][1])
        for r in rows
    ]


async def revoke_binding(info: Info, binding_id: str) -> bool:
    """End one binding: its user keeps the session but must bind again."""
    await info.context.require(Permission.USERS_MANAGE)
    binding_id = text(binding_id, "bindingId", max_len=64, required=True) or ""
    return await info.context.services.bindings.end(ErpBinding.binding_id == binding_id, reason="revoked") > 0


async def revoke_user_sessions(info: Info, openid: str) -> int:
    """End every session of a user: each of their devices must log in again."""
    await info.context.require(Permission.USERS_MANAGE)
    openid = text(openid, "openid", max_len=100, required=True) or ""
    return await info.context.services.sessions.revoke_all(openid)
