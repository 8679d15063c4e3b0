"""Binding a WeChat user to the ERP customer company they buy for (or to the wholesaler, for admins).

Two ways in: the invite code sales staff put on the customer record (微信邀请码), or an ERP
account and password, checked by logging in to the ERP and never stored. Failed attempts
are limited per user so invite codes cannot be found by trial.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlmodel import select, update

from bff.auth.limiter import FailureLimiter
from bff.companies import CompanyDirectory
from bff.domain import Binding, Company, Role, Viewer
from bff.erp import ErpClient
from bff.errors import BffError, ErpLoginRefused, ErrorCode
from bff.security import new_id
from bff.store.db import Database
from bff.store.tables import ErpBinding

INVITE_CODE = re.compile(r"^[A-Z0-9]{4,32}$")


def normalize_invite_code(code: str) -> str:
    return re.sub(r"[\s-]", "", code).upper()


def binding_from_row(row: ErpBinding) -> Binding:
    return Binding(
        binding_id=row.binding_id,
        company=Company(id=row.company_id, name=row.company_name or ""),
        role=Role(row.role),
        method=row.method,
        bound_at=row.bound_at,
        erp_username=row.erp_username,
    )


class BindingService:
    def __init__(
        self,
        db: Database,
        erp: ErpClient,
        companies: CompanyDirectory,
        limiter: FailureLimiter,
        *,
        admin_accounts: frozenset[str],
        wholesaler_name: str,
    ) -> None:
        self._db = db
        self._erp = erp
        self._companies = companies
        self._limiter = limiter
        self._admin_accounts = admin_accounts
        self._wholesaler = Company(id=None, name=wholesaler_name)

    async def current(self, openid: str) -> Binding | None:
        async with self._db.session() as s:
            row = (
                await s.exec(
                    select(ErpBinding)
                    .where(ErpBinding.openid == openid, ErpBinding.is_valid == True)  # noqa: E712
                    .order_by(ErpBinding.bound_at.desc())  # type: ignore[attr-defined]
                )
            ).first()
        return binding_from_row(row) if row else None

    async def bind_by_invite_code(self, viewer: Viewer, raw_code: str) -> Binding:
        await self._limiter.check(viewer.openid)
        code = normalize_invite_code(raw_code)
        company = await self._companies.by_invite_code(code) if INVITE_CODE.match(code) else None
        if company is None:
            await self._limiter.record_failure(viewer.openid)
            raise BffError(ErrorCode.BIND_FAILED, "邀请码无效，请核对后重试或联系您的销售代表")
        return await self._bind(viewer, company, Role.PURCHASER, method="invite", erp_username="")

    async def bind_by_account(self, viewer: Viewer, account: str, password: str) -> Binding:
        await self._limiter.check(viewer.openid)
        account = account.strip()
        try:
            await self._erp.verify_account(account, password)
        except ErpLoginRefused:
            await self._limiter.record_failure(viewer.openid)
            raise
        if account in self._admin_accounts:
            return await self._bind(viewer, self._wholesaler, Role.ADMIN, method="account", erp_username=account)
        company = await self._companies.by_account(account)
        if company is None:
            raise BffError(ErrorCode.BIND_FAILED, "该ERP账号未关联客户企业，请联系您的销售代表")
        return await self._bind(viewer, company, Role.PURCHASER, method="account", erp_username=account)

    async def _bind(self, viewer: Viewer, company: Company, role: Role, *, method: str, erp_username: str) -> Binding:
        if company.disabled:
            raise BffError(ErrorCode.BIND_FAILED, "该企业账户已停用，请联系您的销售代表")
        now = datetime.now(UTC)
        row = ErpBinding(
            binding_id=new_id(),
            session_id=viewer.session_id,
            openid=viewer.openid,
            erp_username=erp_username,
            company_id=company.id,
            company_name=company.name,
            role=role.value,
            method=method,
            bound_at=now,
        )
        async with self._db.session() as s:  # one transaction: the old binding ends as the new one starts
            await s.exec(
                update(ErpBinding)
                .where(ErpBinding.openid == viewer.openid, ErpBinding.is_valid == True)  # noqa: E712
                .values(is_valid=False, unbound_at=now)
            )
            s.add(row)
        await self._limiter.reset(viewer.openid)
        binding = binding_from_row(row)
        viewer.binding = binding
        return Binding(**{**binding.__dict__, "company": company})

    async def unbind(self, viewer: Viewer) -> bool:
        async with self._db.session() as s:
            result = await s.exec(
                update(ErpBinding)
                .where(ErpBinding.openid == viewer.openid, ErpBinding.is_valid == True)  # noqa: E712
                .values(is_valid=False, unbound_at=datetime.now(UTC))
            )
        viewer.binding = None
        return bool(result.rowcount)
