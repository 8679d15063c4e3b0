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
