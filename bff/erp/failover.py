"""故障切换: reads go to a backup ERP channel while the primary's circuit is open.

``FailoverErp`` is an ``ErpReader`` like ``ErpClient``, so everything built on the reader
(orders, companies, binding) fails over without knowing. Writes never fail over: an update must
land on the primary or fail visibly. Without a backup it is the primary, unchanged.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar

from bff.erp.anomalies import Anomalies
from bff.erp.breaker import BreakerState, CircuitBreaker
from bff.erp.calls import ErpCall
from bff.erp.client import ErpClient, ErpFile
from bff.erp.errors import ErpUnavailable
from bff.erp.models import ErpPage
from bff.erp.queries import DatasourceRead, ListRead, R
from bff.erp.reader import M
from bff.erp.transport import Listener

log = logging.getLogger("bff.erp.failover")

T = TypeVar("T")


class FailoverErp:
    def __init__(self, primary: ErpClient, backup: ErpClient | None = None) -> None:
        self.primary = primary
        self.backup = backup
        self.backup_reads = 0
        self.last_backup_at: datetime | None = None
        self.last_good_at: datetime | None = None  # last ERP answer of any channel
        for client in self._clients():
            client.add_listener(self._note_good)

    def _clients(self) -> list[ErpClient]:
        return [self.primary] + ([self.backup] if self.backup else [])

    def _note_good(self, call: ErpCall) -> None:
        if call.outcome == "ok":
            self.last_good_at = datetime.now(UTC)

    # --- state -------------------------------------------------------------------------

    @property
    def breaker(self) -> CircuitBreaker:
        return self.primary.breaker

    @property
    def circuit_open(self) -> bool:
        return self.primary.breaker.state is BreakerState.OPEN

    @property
    def backup_configured(self) -> bool:
        return self.backup is not None

    @property
    def backup_in_use(self) -> bool:
        """True while reads are being routed to the backup (the primary's circuit is open)."""
        return self.backup is not None and self.circuit_open

    @property
    def anomalies(self) -> Anomalies:
        """Counted on the primary: the backup is the same ERP reached another way."""
        return self.primary.anomalies

    @property
    def login_count(self) -> int:
        return self.primary.login_count

    def add_listener(self, listener: Listener) -> None:
        for client in self._clients():
            client.add_listener(listener)

    # --- routing -----------------------------------------------------------------------

    async def _read(self, call: Callable[[ErpClient], Awaitable[T]]) -> T:
        if self.backup is None:
            return await call(self.primary)
        if not self.circuit_open:
            try:
                return await call(self.primary)
            except ErpUnavailable:
                if not self.circuit_open:  # a single failure: the primary's answer stands
                    raise
        log.info("erp read served by the backup channel")
        self.backup_reads += 1
        self.last_backup_at = datetime.now(UTC)
        return await call(self.backup)

    async def fetch(self, read: ListRead[R]) -> ErpPage[R]:
        return await self._read(lambda c: c.fetch(read))

    async def fetch_datasource(self, read: DatasourceRead[R]) -> ErpPage[R]:
        return await self._read(lambda c: c.fetch_datasource(read))

    async def list(self, form_id: int, **kwargs: Any) -> ErpPage[Any]:
        return await self._read(lambda c: c.list(form_id, **kwargs))

    async def datasource(self, form_id: int, datasource_id: int, col_id: int, **kwargs: Any) -> ErpPage[Any]:
        return await self._read(lambda c: c.datasource(form_id, datasource_id, col_id, **kwargs))

    async def get(
        self, form_id: int, id: str, *, model: type[M], condition: dict[str, Any] | None = None
    ) -> M | None:
        return await self._read(lambda c: c.get(form_id, id, model=model, condition=condition))

    async def open_file(self, path: str, *, max_bytes: int, head_bytes: int = 8192) -> ErpFile:
        return await self._read(lambda c: c.open_file(path, max_bytes=max_bytes, head_bytes=head_bytes))

    async def fetch_file(self, path: str, *, max_bytes: int = 100 * 1024 * 1024) -> tuple[bytes, str]:
        return await self._read(lambda c: c.fetch_file(path, max_bytes=max_bytes))

    async def verify_account(self, account: str, password: str) -> None:
        await self._read(lambda c: c.verify_account(account, password))

    async def update(
        self, form_id: int, id: str, data: dict[str, Any], *, condition: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        return await self.primary.update(form_id, id, data, condition=condition)

    async def probe(self) -> float:
        """The primary's health: the probe reports on the ERP, not on the failover."""
        return await self.primary.probe()

    async def aclose(self) -> None:
        for client in self._clients():
            await client.aclose()
