"""api_call_logs, written in batches by a background task so that no request waits for it.

``record`` never blocks and never raises: when the queue is full the row is dropped and
counted (a logging backlog must not take the service down with it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, insert
from sqlmodel import col

from bff.core.security import new_id
from bff.store.db import Database, DatabaseUnavailable
from bff.store.tables import ApiCallLog

log = logging.getLogger("bff.calllog")

MAX_TEXT = 500
_SECRET_KEYS = re.compile(
    r'("?(?:password|erpPassword|token|session_key|sessionKey|secret|js_code|mobile|phone|address)"?\s*[:=]\s*)("[^"]*"|[^,}&\s]+)',
    re.IGNORECASE,
)


def mask_and_truncate(text: str | None, max_len: int = MAX_TEXT) -> str | None:
    """Masks the values of sensitive keys (JSON or query strings) and cuts to ``max_len`` characters."""
    if text is None:
        return None
    masked = _SECRET_KEYS.sub(lambda m: m.group(1) + '"***"', text)
    return masked if len(masked) <= max_len else masked[: max_len - 1] + "…"


@dataclass
class CallLogStats:
    written: int = 0
    dropped: int = 0
    batches: int = 0


class CallLogWriter:
    def __init__(
        self, db: Database, *, batch_size: int = 200, interval_s: float = 1.0, max_queue: int = 20_000, enabled: bool = True
    ) -> None:
        self._db = db
        self._batch_size = batch_size
        self._interval = interval_s
        self._queue: asyncio.Queue[dict[str, object]] = asyncio.Queue(maxsize=max_queue)
        self._task: asyncio.Task[None] | None = None
        # One flush at a time: a flush returns once what was queued is written, including a batch
        # another flush had taken from the queue and was still writing.
        self._flushing = asyncio.Lock()
        self.enabled = enabled
        self.stats = CallLogStats()

    def record(
        self,
        *,
        endpoint: str,
        method: str,
        status: int | None,
        latency_ms: float,
        direction: str = "inbound",
        operation: str | None = None,
        session_id: str | None = None,
        params: str | None = None,
        error: str | None = None,
        trace_id: str | None = None,
        response_data: str | None = None,
    ) -> None:
        if not self.enabled:
            return
        # A plain dict, inserted in bulk by Core: ORM objects cost more CPU than the request itself.
        row: dict[str, object] = {
            "log_id": new_id(),
            "session_id": session_id,
            "api_endpoint": endpoint[:200],
            "request_method": method[:10],
            "request_params": mask_and_truncate(params),
            "response_status": status,
            "response_data": mask_and_truncate(response_data),
            "response_time_ms": round(latency_ms),
            "error_message": mask_and_truncate(error),
            "called_at": datetime.now(UTC),
            "direction": direction,
            "operation": (operation or None) and operation[:100],
            "trace_id": trace_id,
        }
        try:
            self._queue.put_nowait(row)
        except asyncio.QueueFull:
            self.stats.dropped += 1

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="call-log-writer")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.flush()

    async def flush(self) -> int:
        """Writes everything queued now, in batches; returns the number of rows written."""
        async with self._flushing:
            return await self._write_queued()

    async def _write_queued(self) -> int:
        total = 0
        while not self._queue.empty():
            batch = [self._queue.get_nowait() for _ in range(min(self._batch_size, self._queue.qsize()))]
            try:
                # Core on a connection, one transaction: no ORM session, no ORM object per row (and
                # no sqlmodel DeprecationWarning, which Session.execute raises on every call).
                async with self._db.begin() as conn:
                    await conn.execute(insert(ApiCallLog.__table__), batch)  # type: ignore[attr-defined]
            except DatabaseUnavailable:  # logged once per outage by the database: the rows are lost, the service is not
                self.stats.dropped += len(batch)
                continue
            except Exception:  # the rows are lost, the service is not
                log.exception("could not write %d call log rows", len(batch))
                self.stats.dropped += len(batch)
                continue
            total += len(batch)
            self.stats.written += len(batch)
            self.stats.batches += 1
        return total

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval)
            # Shielded: stopped mid-batch, the rows taken from the queue would be lost; stop()'s
            # own flush waits for this one to end.
            await asyncio.shield(self.flush())

    async def purge(self, older_than: timedelta) -> int:
        cutoff = datetime.now(UTC) - older_than
        async with self._db.session() as session:
            result = await session.exec(delete(ApiCallLog).where(col(ApiCallLog.called_at) < cutoff))
        return int(result.rowcount or 0)
