"""The async engine and session factory, on SQLite (aiosqlite) or MySQL/MariaDB (asyncmy).

A database that cannot be reached (refused or lost connections, an exhausted pool) raises
:class:`DatabaseUnavailable` from every unit of work, and is logged once per episode (when it
goes and when it comes back, with the count of failed operations), not once per request: the
answer paths map it to ``DATABASE_UNAVAILABLE``, the background loops skip a round."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, async_sessionmaker, create_async_engine
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger("bff.store")

T = TypeVar("T")
RETRY_ATTEMPTS = 5
# MySQL/MariaDB: 1213 deadlock found, 1205 lock wait timeout. SQLite: database is locked.
RETRYABLE_MYSQL_CODES = {1213, 1205}
# Client-side "cannot reach the server" (2002/2003 refused, 2006 gone away, 2013 lost during a
# query, 2055 lost with a system error) and the server refusing work (1040 too many connections,
# 1053 shutting down).
UNREACHABLE_MYSQL_CODES = {2002, 2003, 2006, 2013, 2055, 1040, 1053}


class DatabaseUnavailable(Exception):
    """The database cannot be reached now; what needs it fails cleanly, reads from the ERP go on."""


def is_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the database is out of reach (not that a statement was wrong)."""
    if isinstance(error, PoolTimeout):
        return True  # every pooled connection busy or hanging: as good as unreachable for this request
    if not isinstance(error, DBAPIError):
        return False
    if error.connection_invalidated or isinstance(error.orig, (ConnectionError, TimeoutError)):
        return True
    args: tuple[Any, ...] = getattr(error.orig, "args", ())
    return bool(args) and args[0] in UNREACHABLE_MYSQL_CODES


class Reachability:
    """The database's state as this process's units of work see it: one line per change."""

    def __init__(self) -> None:
        self.down_since: float | None = None  # time.monotonic() of the first failure of the episode
        self.failures = 0

    def failed(self, error: BaseException) -> None:
        self.failures += 1
        if self.down_since is None:
            self.down_since = time.monotonic()
            cause = getattr(error, "orig", None) or error
            log.warning("database unreachable (%s: %s): reads from the ERP go on, what needs the database answers "
                        "DATABASE_UNAVAILABLE", type(cause).__name__, str(cause)[:200])

    def answered(self, started_at: float) -> None:
        """A unit of work begun at ``started_at`` (time.monotonic()) got its answers. One begun
        before the outage's first failure says nothing of now (its last answer may have come just
        before the cut): only one begun since may end the episode."""
        if self.down_since is not None and started_at >= self.down_since:
            log.warning("database reachable again after %d failed operation(s) in %.0f s",
                        self.failures, time.monotonic() - self.down_since)
            self.down_since, self.failures = None, 0


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
        self.reach = Reachability()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A unit of work: commit on success, roll back on any error (no partial writes)."""
        async with self._reaching(), self._sessions() as session, session.begin():
            yield session

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncConnection]:
        """A plain connection for reads that need no unit of work (no ORM objects): about half
        the CPU of a session, for reads made on every view of a page."""
        async with self._reaching(), self.engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def begin(self) -> AsyncIterator[AsyncConnection]:
        """A connection in one transaction, for Core statements (batched inserts)."""
        async with self._reaching(), self.engine.begin() as conn:
            yield conn

    @asynccontextmanager
    async def _reaching(self) -> AsyncIterator[None]:
        """Whether the database answered: a connection failure becomes DatabaseUnavailable (and
        the outage is noted once); anything else the work raises passes as it is."""
        started_at = time.monotonic()
        try:
            yield
        except (DBAPIError, PoolTimeout) as error:
            if not is_unreachable(error):
                raise
            raise self._unavailable(error) from error
        self.reach.answered(started_at)

    def _unavailable(self, error: DBAPIError | PoolTimeout) -> DatabaseUnavailable:
        self.reach.failed(error)
        return DatabaseUnavailable(type(getattr(error, "orig", None) or error).__name__)

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
        async with self.read() as conn:
            await conn.execute(text("SELECT 1"))

    async def dispose(self) -> None:
        await self.engine.dispose()
