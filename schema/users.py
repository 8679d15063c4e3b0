"""User, session, company and binding types."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import strawberry
from strawberry import Parent

from bff.core import domain
from resolvers import admin, auth
from resolvers.context import Info

Permission = Annotated[domain.Permission, strawberry.enum(name="Permission", description="What a bound user may do")]
Role = Annotated[domain.Role, strawberry.enum(
    name="Role", description="企业采购员 (purchaser) or 批发商管理员 (wholesaler administrator)")]


@strawberry.type(description="A customer company of the wholesaler, as the ERP knows it")
class Company:
    id: strawberry.ID | None
    name: str
    code: str | None
    abbr: str | None
    province: str | None
    city: str | None
    contact: str | None
    mobile: str | None = strawberry.field(description="Masked, e.g. 138****5678")


@strawberry.type
class Binding:
    role: Role
    method: str = strawberry.field(description="invite, account, or review (the reviewers' code, BFF_REVIEW_INVITE_CODE)")
    bound_at: datetime
    permissions: list[Permission]

    @strawberry.field(graphql_type=Company)
    async def company(self, info: Info, binding: Parent[domain.Binding]) -> domain.Company:
        return await auth.company_details(info, binding)


@strawberry.type
class SessionInfo:
    expires_at: datetime
    login_source: str


@strawberry.type(description="The signed-in WeChat user")
class User:
    openid: str
    unionid: str | None
    nickname: str | None
    avatar_url: str | None
    binding: Binding | None
    permissions: list[Permission]

    @strawberry.field
    def bound(self) -> bool:
        return self.binding is not None

    @strawberry.field(graphql_type=SessionInfo)
    def session(self, viewer: Parent[domain.Viewer]) -> domain.Viewer:
        return viewer  # the Viewer behind this User has expires_at and login_source


@strawberry.type
class LoginPayload:
    token: str = strawberry.field(description="The BFF's bearer token; send as Authorization: Bearer")
    openid: str
    unionid: str | None
    expires_at: datetime

    @strawberry.field(graphql_type=User)
    def user(self, login: Parent[domain.LoginResult]) -> domain.Viewer:
        return login.viewer


@strawberry.type
class BindPayload:
    """Resolved from the domain Binding that bindCompany made."""

    @strawberry.field(graphql_type=Binding)
    def binding(self, binding: Parent[domain.Binding]) -> domain.Binding:
        return binding

    @strawberry.field
    def bind_status(self) -> bool:
        return True

    @strawberry.field(graphql_type=Company)
    async def company_info(self, info: Info, binding: Parent[domain.Binding]) -> domain.Company:
        return await auth.company_details(info, binding)

    @strawberry.field
    def permissions(self, binding: Parent[domain.Binding]) -> list[Permission]:
        return binding.permissions


@strawberry.input
class ProfileInput:
    nickname: str | None = None
    avatar_url: str | None = None


@strawberry.input
class ErpAccountInput:
    username: str
    password: str


@strawberry.input(one_of=True, description="Exactly one way to bind")
class BindCompanyInput:
    invite_code: str | None = strawberry.UNSET
    erp_account: ErpAccountInput | None = strawberry.UNSET


@strawberry.type(description="A user bound to a company (administrators only)")
class CompanyUser:
    binding_id: strawberry.ID
    openid: str
    nickname: str | None
    method: str = strawberry.field(description="invite or account")
    bound_at: datetime
    active_sessions: int


@strawberry.type
class UserQuery:
    @strawberry.field(description="The signed-in user, their binding and permissions", graphql_type=User)
    async def me(self, info: Info) -> domain.Viewer:
        return await auth.me(info)

    @strawberry.field(
        description="Administrators: the users bound to a company, to revoke their access", graphql_type=list[CompanyUser]
    )
    async def company_users(self, info: Info, company_id: strawberry.ID) -> list[domain.CompanyUser]:
        return await admin.company_users(info, company_id)


@strawberry.type
class UserMutation:
    @strawberry.mutation(description="Exchange a wx.login() code for a BFF session", graphql_type=LoginPayload)
    async def wx_login(self, info: Info, code: str, profile: ProfileInput | None = None) -> domain.LoginResult:
        profile = profile or ProfileInput()
        return await auth.wx_login(info, code, profile.nickname, profile.avatar_url)

    @strawberry.mutation(description="Bind the user to their company: invite code or ERP account", graphql_type=BindPayload)
    async def bind_company(self, info: Info, input: BindCompanyInput) -> domain.Binding:
        if input.invite_code:
            binding = await auth.bind_by_invite_code(info, input.invite_code)
        elif input.erp_account:
            binding = await auth.bind_by_account(info, input.erp_account.username, input.erp_account.password)
        else:
            raise auth.bad_input("请填写邀请码或ERP账号", "input")
        return binding

    @strawberry.mutation(description="End the binding; the user must bind again to read orders")
    async def unbind_company(self, info: Info) -> bool:
        return await auth.unbind(info)

    @strawberry.mutation(graphql_type=User)
    async def update_profile(self, info: Info, profile: ProfileInput) -> domain.Viewer:
        return await auth.update_profile(info, profile.nickname, profile.avatar_url)

    @strawberry.mutation(description="Administrators: end one binding (the user must bind again)")
    async def revoke_binding(self, info: Info, binding_id: strawberry.ID) -> bool:
        return await admin.revoke_binding(info, binding_id)

    @strawberry.mutation(description="Administrators: end every session of a user; returns how many ended")
    async def revoke_user_sessions(self, info: Info, openid: str) -> int:
        return await admin.revoke_user_sessions(info, openid)

    @strawberry.mutation(description="End this session, or every session of the user")
    async def logout(self, info: Info, all_sessions: bool = False) -> bool:
        return await auth.logout(info, all_sessions)

    @strawberry.mutation(description=(
        "Delete the caller's account: user, sessions, bindings, follows, grants, settings, messages and avatar "
        "removed; call logs anonymised (docs/privacy.md). The session ends; a new login starts afresh"))
    async def delete_my_account(self, info: Info) -> bool:
        return await auth.delete_my_account(info)
