"""What the services need of the ERP, as a protocol: ``ErpClient`` (one channel) and
``FailoverErp`` (primary + backup) both provide it, so orders, companies, binding and
notifications are written once against ``ErpReader`` and never know which they were given."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol, TypeVar

from pydantic import BaseModel

from bff.erp.anomalies import Anomalies
from bff.erp.breaker import CircuitBreaker
from bff.erp.client import ErpFile
from bff.erp.models import ErpPage
from bff.erp.queries import DatasourceRead, ListRead, R
from bff.erp.transport import Listener

M = TypeVar("M", bound=BaseModel)


class ErpReader(Protocol):
    @property
    def breaker(self) -> CircuitBreaker: ...

    @property
    def circuit_open(self) -> bool: ...

    @property
    def anomalies(self) -> Anomalies: ...

    @property
    def login_count(self) -> int: ...

    def add_listener(self, listener: Listener) -> None: ...

    async def fetch(self, read: ListRead[R]) -> ErpPage[R]: ...

    async def fetch_datasource(self, read: DatasourceRead[R]) -> ErpPage[R]: ...

    async def get(
        self, form_id: int, id: str, *, model: type[M], condition: dict[str, Any] | None = None
    ) -> M | None: ...

    async def open_file(self, path: str, *, max_bytes: int, head_bytes: int = 8192) -> ErpFile: ...

    async def fetch_file(self, path: str, *, max_bytes: int = 100 * 1024 * 1024) -> tuple[bytes, str]: ...

    async def verify_account(self, account: str, password: str) -> None: ...

    async def update(
        self, form_id: int, id: str, data: dict[str, Any], *, condition: dict[str, Any] | None = None
    ) -> dict[str, Any]: ...

    async def probe(self) -> float: ...

    async def aclose(self) -> None: ...


class ErpChannels(ErpReader, Protocol):
    """The reader as monitoring sees it: whether a backup channel exists and is in use."""

    @property
    def backup_configured(self) -> bool: ...

    @property
    def backup_in_use(self) -> bool: ...

    @property
    def last_good_at(self) -> datetime | None: ...
