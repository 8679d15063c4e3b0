"""Customer companies as the ERP knows them (form 100004), with short-lived caching.

Customer records are base data, so caching them briefly is allowed (orders never are).
"""

from __future__ import annotations

from aiocache.base import BaseCache

from bff.core.domain import Company
from bff.erp import CUSTOMERS, CustomerRecord, queries
from bff.erp.reader import ErpReader
from bff.erp.mapping import company_from_record

CUSTOMER_TTL_S = 600


class CompanyDirectory:
    def __init__(
        self, erp: ErpReader, cache: BaseCache, *, invite_code_field: str, account_field: str, recheck_s: int = 300
    ) -> None:
        self._erp = erp
        self._cache = cache
        self._invite_field = invite_code_field
        self._account_field = account_field
        self._recheck_s = recheck_s

    async def _find_one(self, field: str, value: str) -> Company | None:
        page = await self._erp.fetch(queries.customers_where(field, value))
        # Exactly one match binds; an ambiguous value binds nobody.
        matches = [r for r in page.rows if str(r.value_of(field) or "") == value]
        return company_from_record(matches[0]) if len(matches) == 1 else None

    async def by_invite_code(self, code: str) -> Company | None:
        return await self._find_one(self._invite_field, code)

    async def by_account(self, account: str) -> Company | None:
        return await self._find_one(self._account_field, account)

    async def standing(self, company_id: str) -> tuple[Company | None, str | None]:
        """The customer as the ERP has it now (None: gone) and its invite code, read at most
        once per ``recheck_s`` per customer (all instances share it through the cache)."""
        key = f"customer-standing:{company_id}"
        cached = await self._cache.get(key)
        if cached is None:
            record = await self._erp.get(CUSTOMERS, company_id, model=CustomerRecord)
            cached = {"company": None} if record is None else {
                "company": company_from_record(record).__dict__,
                "invite": str(record.value_of(self._invite_field) or ""),
            }
            await self._cache.set(key, cached, ttl=self._recheck_s)
        company = cached.get("company")
        return (Company(**company) if company else None), cached.get("invite")

    async def get(self, company_id: str) -> Company | None:
        key = f"customer:{company_id}"
        cached = await self._cache.get(key)
        if cached is not None:
            return Company(**cached)
        record = await self._erp.get(CUSTOMERS, company_id, model=CustomerRecord)
        if record is None:
            return None
        company = company_from_record(record)
        await self._cache.set(key, company.__dict__, ttl=CUSTOMER_TTL_S)
        return company
