"""Customer companies as the ERP knows them (form 100004), with short-lived caching.

Customer records are base data, so caching them briefly is allowed (orders never are).
"""

from __future__ import annotations

from aiocache.base import BaseCache

from bff.domain import Company
from bff.erp import CUSTOMERS, CustomerRecord, ErpClient

CUSTOMER_TTL_S = 600


def company_from_record(record: CustomerRecord) -> Company:
    return Company(
        id=record.id,
        name=record.name or record.abbr or record.code or record.id,
        code=record.code,
        abbr=record.abbr,
        province=record.province,
        city=record.city,
        contact=record.contact,
        mobile=record.mobile,
        disabled=bool(record.disable),
    )


class CompanyDirectory:
    def __init__(
        self, erp: ErpClient, cache: BaseCache, *, invite_code_field: str, account_field: str
    ) -> None:
        self._erp = erp
        self._cache = cache
        self._invite_field = invite_code_field
        self._account_field = account_field

    async def _find_one(self, field: str, value: str) -> Company | None:
        page = await self._erp.list(CUSTOMERS, model=CustomerRecord, filters={field: value}, page_size=2)
        # Exactly one match binds; an ambiguous value binds nobody.
        matches = [r for r in page.rows if str(getattr_alias(r, field) or "") == value]
        return company_from_record(matches[0]) if len(matches) == 1 else None

    async def by_invite_code(self, code: str) -> Company | None:
        return await self._find_one(self._invite_field, code)

    async def by_account(self, account: str) -> Company | None:
        return await self._find_one(self._account_field, account)

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


def getattr_alias(record: CustomerRecord, field: str) -> object:
    """A record's value by its ERP field name (aliases such as 微信邀请码 included)."""
    return record.model_dump(by_alias=True).get(field, getattr(record, field, None))
