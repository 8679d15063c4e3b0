"""Migrations: the same versions build the tables on SQLite and on MariaDB, matching the models."""

from __future__ import annotations

import os
import secrets
import tempfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

import bff.store.tables  # noqa: F401
from bff.store import migrate
from bff.store.db import Database
from tests.support import MYSQL_URL, create_mysql_database, drop_mysql_database, require_service


def _differences(connection: object) -> list[object]:
    context = MigrationContext.configure(connection, opts={"compare_type": True})  # type: ignore[arg-type]
    return list(compare_metadata(context, SQLModel.metadata))


async def _check(url: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db)
        assert await migrate.current_revision(db) == migrate.head_revision()
        async with db.engine.connect() as conn:
            differences = await conn.run_sync(_differences)
        assert differences == [], differences
        await migrate.upgrade(db)  # idempotent
        if db.dialect == "mysql":
            async with db.engine.connect() as conn:
                from sqlalchemy import text

                charset = (await conn.execute(text(
                    "SELECT CCSA.character_set_name FROM information_schema.TABLES T "
                    "JOIN information_schema.COLLATION_CHARACTER_SET_APPLICABILITY CCSA "
                    "ON CCSA.collation_name = T.table_collation "
                    "WHERE T.table_schema = DATABASE() AND T.table_name = 'erp_bindings'"
                ))).scalar()
            assert charset == "utf8mb4"
    finally:
        await db.dispose()


async def test_migrations_on_sqlite() -> None:
    path = os.path.join(tempfile.mkdtemp(), f"m-{secrets.token_hex(3)}.sqlite3")
    await _check(f"sqlite+aiosqlite:///{path}")


@pytest.mark.mariadb
async def test_migrations_on_mariadb() -> None:
    require_service(MYSQL_URL, 3306, "MariaDB")
    url, handle = await create_mysql_database()
    try:
        await _check(url)
    finally:
        await drop_mysql_database(handle)


@pytest.mark.mariadb
async def test_replicas_starting_together_migrate_once_under_the_lock() -> None:
    """Issue 21: several replicas run `bff serve --migrate` at once. Without the lock two of them
    both find no revision and both CREATE TABLE: they deadlock on MariaDB's metadata locks (or one
    fails with "table already exists")."""
    import asyncio

    require_service(MYSQL_URL, 3306, "MariaDB")
    url, handle = await create_mysql_database()
    replicas = [Database(url) for _ in range(4)]  # one engine (a connection of its own) each
    try:
        started = asyncio.gather(*(migrate.upgrade(db) for db in replicas), return_exceptions=True)
        results = await asyncio.wait_for(started, 120)  # a deadlock fails here, not at CI's limit
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert {await migrate.current_revision(db) for db in replicas} == {migrate.head_revision()}
        async with replicas[0].engine.connect() as conn:
            differences = await conn.run_sync(_differences)
        assert differences == [], differences
    finally:
        for db in replicas:
            await db.dispose()
        await drop_mysql_database(handle)


@pytest.mark.mariadb
async def test_the_head_revision_is_committed_before_the_lock_is_released() -> None:
    """A replica waiting on the migration lock reads the revision as soon as the lock is free: by
    then the last migration's alembic_version row must be committed (DDL commits itself; that row
    does not), or the waiter runs the migration again ("Duplicate column name", seen in CI)."""
    require_service(MYSQL_URL, 3306, "MariaDB")
    url, handle = await create_mysql_database()
    migrator, waiter = Database(url), Database(url)
    try:
        async with migrator.engine.connect() as conn:
            await conn.run_sync(migrate._upgrade, "head")
            # The lock is released; this connection has not ended yet.
            assert await migrate.current_revision(waiter) == migrate.head_revision()
    finally:
        await migrator.dispose()
        await waiter.dispose()
        await drop_mysql_database(handle)


async def test_readiness_waits_for_the_schema() -> None:
    """An unmigrated database is not ready (issue 21: it answered 200); migrated, it is."""
    from bff.web.app import create_app
    from tests.support import make_settings

    path = os.path.join(tempfile.mkdtemp(), f"r-{secrets.token_hex(3)}.sqlite3")
    from tests.support import free_port

    settings = make_settings(database_url=f"sqlite+aiosqlite:///{path}", notify_enabled=False,
                             erp_base_url=f"http://127.0.0.1:{free_port()}")  # refused at once: the pool is not wedged
    db = Database(settings.database_url)
    await migrate.upgrade(db, "0005_order_follows")  # an older release's schema
    try:
        import httpx

        app = create_app(settings)
        async with app.router.lifespan_context(app), httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://bff"
        ) as client:
            before = await client.get("/api/health/check")
            assert before.status_code == 503 and before.json()["ready"] is False
            schema = before.json()["checks"]["schema"]
            assert (schema["status"], schema["error"]) == ("down", "SchemaBehind")
            await migrate.upgrade(db)
            after = await client.get("/api/health/check")
            assert after.status_code == 200 and after.json()["checks"]["schema"]["status"] == "up", after.text
    finally:
        await db.dispose()
