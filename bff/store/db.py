"""The async engine and session factory, on SQLite (aiosqlite) or MySQL/MariaDB (asyncmy)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger("bff.store")

T = TypeVar("T")
RETRY_ATTEMPTS = 5
# MySQL/MariaDB: 1213 deadlock found, 1205 lock wait timeout. SQLite: database is locked.
RETRYABLE_MYSQL_CODES = {1213, 1205}


def is_retryable(error: BaseException, *, conflicts: bool = False) -> bool:
    """A transaction lost to a concurrent one and may simply run again. With ``conflicts``,
    a duplicate key too (an upsert that raced another insert of the same row)."""
    if conflicts and isinstance(error, IntegrityError):
        return True
    if not isinstance(error, DBAPIError):
        return False
    args = getattr(error.orig, "args", ())
    if args and args[0] in RETRYABLE_MYSQL_CODES:
        return True
    return "database is locked" in str(error.orig)


def create_engine(url: str) -> AsyncEngine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": 30})

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:  # the DB-API connection is untyped
            # WAL lets readers run beside the one writer; foreign keys are off by default.
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        return engine
    if parsed.get_backend_name() == "mysql" and "charset" not in parsed.query:
        parsed = parsed.update_query_dict({"charset": "utf8mb4"})
    return create_async_engine(parsed, pool_size=10, max_overflow=10, pool_recycle=1800)  # no pre-ping per checkout: recycling covers idle drops


class Database:
    """Owns the engine; hands out sessions whose transaction commits or rolls back as a whole."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self._sessions = async_sessionmaker(self.engine, class_=AsyncSession, expire_on_commit=False)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on any error (no partial writes)."""
        async with self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A plain connection for reads that need no unit of work (no ORM objects): about half
        the CPU of a session, for reads made on every view of a page."""
        async with self.engine.connect() as conn:
            yield conn

    async def run(self, work: Callable[[AsyncSession], Awaitable[T]], *, conflicts: bool = False) -> T:
        """``work`` in one transaction, run again (a few times, jittered) when it loses to a
        concurrent transaction: concurrent first binds deadlock on InnoDB's gap locks."""
        for attempt in range(1, RETRY_ATTEMPTS + 1):
            try:
                async with self.session() as session:
                    return await work(session)
            except DBAPIError as error:
                if attempt == RETRY_ATTEMPTS or not is_retryable(error, conflicts=conflicts):
                    raise
                log.info("transaction retried attempt=%d reason=%s", attempt, type(error.orig).__name__)
                await asyncio.sleep(random.uniform(0.005, 0.02) * attempt)
        raise AssertionError("unreachable")

    async def ping(self) -> None:
        async with self.engine.connect() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
