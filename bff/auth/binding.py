"""Binding a WeChat user to the ERP customer company they buy for (or to the wholesaler, for admins).

Two ways in: the invite code sales staff put on the customer record (微信邀请码), or an ERP
account and password, checked by logging in to the ERP and never stored. Every attempt is
counted before it is checked (per user, per client IP, globally; a success resets nothing),
so invite codes and passwords cannot be found by trial.

A binding stands only while its customer does: a customer disabled (or deleted) in the ERP,
or (when configured) a changed invite code, ends it on the user's next request, checked at
most every ``BFF_COMPANY_RECHECK_S`` per customer. Administrators can end any binding.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import true
from sqlmodel import col, select, update
from sqlmodel.ext.asyncio.session import AsyncSession

from bff.auth.companies import CompanyDirectory
from bff.auth.viewers import ViewerCache
from bff.cache.ratelimit import RateLimits
from bff.core.domain import Binding, Company, Role, Viewer
from bff.core.errors import BffError, ErrorCode
from bff.core.security import SecretKeys, new_id
from bff.erp.errors import ErpFailure
from bff.erp.reader import ErpReader
from bff.store.db import Database
from bff.store.tables import ErpBinding, WxUser

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
        invite_code_digest=row.invite_code_digest,
    )


class BindingService:
    def __init__(
        self,
        db: Database,
        erp: ErpReader,
        companies: CompanyDirectory,
        limits: RateLimits,
        viewers: ViewerCache,
        *,
        admin_accounts: frozenset[str],
        wholesaler_name: str,
        secret_keys: SecretKeys,
        rotation_ends_bindings: bool = False,
        review_code: str = "",
        review_company_id: str = "",
    ) -> None:
        self._db = db
        self._erp = erp
        self._companies = companies
        self._limits = limits
        self._viewers = viewers
        self._keys = secret_keys
        self._rotation_ends_bindings = rotation_ends_bindings
        self._admin_accounts = admin_accounts
        self._wholesaler = Company(id=None, name=wholesaler_name)
        # WeChat's reviewers need a way in without a real customer's code: when configured,
        # this code binds to a demo customer the wholesaler keeps in the ERP for them.
        self._review_code = normalize_invite_code(review_code) if review_code and review_company_id else ""
        self._review_company_id = review_company_id

    async def current(self, openid: str) -> Binding | None:
        rows = await self._valid(ErpBinding.openid == openid, limit=1)
        return binding_from_row(rows[0]) if rows else None

    async def _valid(self, *where: Any, limit: int) -> list[ErpBinding]:
        """Valid bindings matching ``where``, newest first."""
        async with self._db.session() as s:
            rows = await s.exec(
                select(ErpBinding)
                .where(*where, ErpBinding.is_valid == True)  # noqa: E712
                .order_by(col(ErpBinding.bound_at).desc())
                .limit(limit)
            )
            return list(rows.all())

    def _invite_digest(self, code: str) -> str:
        return self._keys.digest(_invite_value(code))

    async def bind_by_invite_code(self, viewer: Viewer, raw_code: str, client_ip: str) -> Binding:
        await self._limits.bind_attempt(viewer.openid, client_ip)
        code = normalize_invite_code(raw_code)
        if self._review_code and code == self._review_code:
            review = await self._companies.get(self._review_company_id)
            if review is not None:
                return await self._bind(viewer, review, Role.PURCHASER, method="review", erp_username="")
        company = await self._companies.by_invite_code(code) if INVITE_CODE.match(code) else None
        if company is None:
            raise BffError(ErrorCode.BIND_FAILED, "邀请码无效，请核对后重试或联系您的销售代表")
        return await self._bind(
            viewer, company, Role.PURCHASER, method="invite", erp_username="", invite_digest=self._invite_digest(code)
        )

    async def bind_by_account(self, viewer: Viewer, account: str, password: str, client_ip: str) -> Binding:
        await self._limits.bind_attempt(viewer.openid, client_ip)
        account = account.strip()
        await self._erp.verify_account(account, password)  # ErpLoginRefused: BIND_FAILED (bff/web/errors.py)
        if account in self._admin_accounts:
            return await self._bind(viewer, self._wholesaler, Role.ADMIN, method="account", erp_username=account)
        company = await self._companies.by_account(account)
        if company is None:
            raise BffError(ErrorCode.BIND_FAILED, "该ERP账号未关联客户企业，请联系您的销售代表")
        return await self._bind(viewer, company, Role.PURCHASER, method="account", erp_username=account)

    async def _bind(
        self, viewer: Viewer, company: Company, role: Role, *, method: str, erp_username: str, invite_digest: str | None = None
    ) -> Binding:
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
            invite_code_digest=invite_digest,
        )

        async def replace(s: AsyncSession) -> None:  # one transaction: the old binding ends as the new one starts
            # The user's row locked first: a user's concurrent binds queue here, instead of
            # deadlocking on InnoDB's gap locks over erp_bindings (SQLite: one writer anyway).
            await s.exec(select(WxUser.openid).where(WxUser.openid == viewer.openid).with_for_update())
            await s.exec(
                update(ErpBinding)
                .where(col(ErpBinding.openid) == viewer.openid, col(ErpBinding.is_valid) == true())
                .values(is_valid=False, unbound_at=now, ended_reason="rebound")
            )
            s.add(ErpBinding.model_validate(row))  # a fresh instance per attempt

        await self._db.run(replace)  # concurrent binds of one user: retried, never a 500
        await self._viewers.changed(viewer.openid)
        binding = binding_from_row(row)
        viewer.binding = binding
        return Binding(**{**binding.__dict__, "company": company})

    async def unbind(self, viewer: Viewer) -> bool:
        ended = await self.end(ErpBinding.openid == viewer.openid, reason="unbound")
        viewer.binding = None
        return ended > 0

    async def end(self, *where: Any, reason: str) -> int:
        """End the valid bindings matching ``where``; how many ended."""
        valid = (*where, col(ErpBinding.is_valid) == true())
        async with self._db.session() as s:
            openids = (await s.exec(select(ErpBinding.openid).where(*valid))).all()  # whose viewers change
            result = await s.exec(
                update(ErpBinding).where(*valid).values(is_valid=False, unbound_at=datetime.now(UTC), ended_reason=reason)
            )
        if result.rowcount:
            await self._viewers.changed(*openids)
        return int(result.rowcount or 0)

    async def standing(self, binding: Binding) -> str | None:
        """Why ``binding`` no longer stands (and end it), or None while it does.

        A purchaser's customer must still exist and not be disabled in the ERP; with
        ``BFF_INVITE_CODE_ROTATION_ENDS_BINDINGS`` an invite-code binding also ends when the
        customer's code changed. When the ERP cannot say, the binding stands (its reads fail anyway).
        """
        if binding.role is not Role.PURCHASER or binding.company.id is None:
            return None
        try:
            company, invite_code = await self._companies.standing(binding.company.id)
        except ErpFailure:
            return None
        reason = None
        if company is None:
            reason = "company_missing"
        elif company.disabled:
            reason = "company_disabled"
        elif self._rotation_ends_bindings and binding.invite_code_digest is not None:
            current = self._invite_digest(invite_code or "")
            if binding.invite_code_digest == current:
                pass  # the usual case: no second digest worked out
            elif binding.invite_code_digest == self._keys.earlier_digest(_invite_value(invite_code or "")):
                await self._redigest(binding, current)  # BFF_SECRET_KEY rotated: the same code, re-made
            else:
                reason = "invite_code_changed"
        if reason is not None:
            await self.end(ErpBinding.binding_id == binding.binding_id, reason=reason)
        return reason

    async def _redigest(self, binding: Binding, digest: str) -> None:
        async with self._db.session() as s:
            await s.exec(update(ErpBinding).where(col(ErpBinding.binding_id) == binding.binding_id)
                         .values(invite_code_digest=digest))

    async def company_users(self, company_id: str) -> list[ErpBinding]:
        """The valid bindings to a company, newest first (the administrators' user list)."""
        return await self._valid(ErpBinding.company_id == company_id, limit=500)


def _invite_value(code: str) -> str:
    """What an invite code's digest is made of (with the current key, or the previous one)."""
    return "invite:" + normalize_invite_code(code)
