"""Customer companies as the ERP knows them (form 100004), with short-lived caching.

Customer records are base data, so caching them briefly is allowed (orders never are).
"""

from __future__ import annotations

from typing import Any

from aiocache.base import BaseCache

from bff.cache.remembered import RememberedEntries
from bff.core.domain import Company
from bff.erp import CUSTOMERS, CustomerRecord, queries
from bff.erp.mapping import company_from_record
from bff.erp.reader import ErpReader

CUSTOMER_TTL_S = 600

Standing = tuple[Company | None, str | None]
Entry = dict[str, Any]


class CompanyDirectory:
    def __init__(
        self, erp: ErpReader, cache: BaseCache, *, invite_code_field: str, account_field: str, recheck_s: int = 300
    ) -> None:
        self._erp = erp
        self._invite_field = invite_code_field
        self._account_field = account_field
        self._recheck_s = recheck_s
        self._entries = RememberedEntries(cache)  # every signed-in request asks for its customer

    async def _find_one(self, field: str, value: str) -> Company | None:
        page = await self._erp.fetch(queries.customers_where(field, value))
        # Exactly one match binds; an ambiguous value binds nobody.
        matches = [r for r in page.rows if str(r.value_of(field) or "") == value]
        return company_from_record(matches[0]) if len(matches) == 1 else None

    async def by_invite_code(self, code: str) -> Company | None:
        return await self._find_one(self._invite_field, code)

    async def by_account(self, account: str) -> Company | None:
        return await self._find_one(self._account_field, account)

    async def standing(self, company_id: str) -> Standing:
        """The customer as the ERP has it now (None: gone) and its invite code, read at most
        once per ``recheck_s`` per customer (all instances share it through the cache), and
        never older than that."""

        async def load() -> Entry:
            record = await self._erp.get(CUSTOMERS, company_id, model=CustomerRecord)
            return {"company": None} if record is None else {
                "company": company_from_record(record).__dict__,
                "invite": str(record.value_of(self._invite_field) or ""),
            }

        entry = await self._entries.get(f"customer-standing:{company_id}", self._recheck_s, load)
        assert entry is not None
        company = entry.get("company")
        return (Company(**company) if company else None), entry.get("invite")

    async def get(self, company_id: str) -> Company | None:
        async def load() -> Entry | None:
            record = await self._erp.get(CUSTOMERS, company_id, model=CustomerRecord)
            return None if record is None else dict(company_from_record(record).__dict__)

        entry = await self._entries.get(f"customer:{company_id}", CUSTOMER_TTL_S, load)
        return None if entry is None else Company(**entry)
