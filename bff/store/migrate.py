"""Versioned migrations (alembic), applied on SQLite and MySQL/MariaDB alike.

Several replicas may start at once and each run ``bff serve --migrate``: on MySQL/MariaDB the
upgrade runs under a named server lock (``GET_LOCK``), so one replica migrates while the others
wait, then find the schema at head and do nothing. SQLite serves one instance only.
"""

from __future__ import annotations

import hashlib
import weakref
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from bff.store.db import Database

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
LOCK_WAIT_S = 300  # a replica waits this long for another's migration before it gives up


class MigrationLockTimeout(RuntimeError):
    """Another process held the migration lock for longer than LOCK_WAIT_S."""


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


def _lock_name(connection: Connection) -> str:
    """One lock per database (the lock is server-wide; names are at most 64 characters)."""
    database = str(connection.exec_driver_sql("SELECT DATABASE()").scalar())
    return "bff-migrate-" + hashlib.sha256(database.encode()).hexdigest()[:32]


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    if connection.dialect.name != "mysql":
        command.upgrade(config, revision)
        connection.commit()
        return
    name = _lock_name(connection)
    # GET_LOCK belongs to the connection (not a transaction): MySQL's DDL commits implicitly, the
    # lock stays held until RELEASE_LOCK or the connection ends (a crashed migrator frees it).
    got = connection.execute(text("SELECT GET_LOCK(:name, :wait)"), {"name": name, "wait": LOCK_WAIT_S}).scalar()
    if got != 1:
        raise MigrationLockTimeout(f"another process held the migration lock for {LOCK_WAIT_S} s")
    try:
        command.upgrade(config, revision)  # reads the revision under the lock: a waiter finds head
        # Committed before the lock goes: DDL commits itself, but the last revision's row in
        # alembic_version does not, and a waiter would read the revision before it and run it again.
        connection.commit()
    finally:
        connection.execute(text("SELECT RELEASE_LOCK(:name)"), {"name": name})


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


async def upgrade(db: Database, revision: str = "head") -> None:
    async with db.engine.connect() as conn:  # _upgrade commits (on MySQL, before it lets the lock go)
        await conn.run_sync(_upgrade, revision)


async def current_revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _behind(current: str | None) -> bool:
    """The schema lacks migrations this code needs: no revision, or an ancestor of head. A
    revision this code does not know is a newer release's (migrations add, never remove, during a
    rolling upgrade: docs/deploy.md): this code still runs on it."""
    if current is None:
        return True
    scripts = ScriptDirectory.from_config(alembic_config())
    if current == scripts.get_current_head():
        return False
    return any(script.revision == current for script in scripts.walk_revisions())


_AT_HEAD: weakref.WeakSet[Database] = weakref.WeakSet()  # once there, a schema never goes back


async def schema_ready(db: Database) -> None:
    """Raises SchemaBehind while the database is not migrated to this code's head (readiness)."""
    if db in _AT_HEAD:
        return
    current = await current_revision(db)
    if _behind(current):
        raise SchemaBehind(f"database at {current or 'no revision'}, code needs {head_revision()}")
    _AT_HEAD.add(db)


class SchemaBehind(RuntimeError):
    """The database's schema is older than this code: run `bff migrate`."""
