"""Bringing a store's schema to this agent's version with Alembic, safely when agents start together.

Every command migrates on open: one agent upgrades under a lock (a PostgreSQL advisory lock, a
file lock next to a SQLite database) while the others wait and then find nothing to do. A store
whose schema is newer than this agent knows is refused rather than written to.

A store already at the head costs one plain query and no Alembic: importing Alembic alone takes
longer than most commands that only read the store. A new store (an empty database) is built from
the models in one go and stamped at the head, without Alembic either.
"""

from __future__ import annotations

import fcntl
import logging
import re
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import inspect, text
from sqlalchemy.engine import Connection, Engine

from agent.errors import StoreError
from agent.logs import get_logger

if TYPE_CHECKING:
    from alembic.config import Config

log = get_logger()
logging.getLogger("alembic").setLevel(logging.WARNING)  # chatty at INFO; `store_migrated` says what happened

MIGRATIONS = Path(__file__).with_name("migrations")
FIRST = "0001"
VERSION_TABLE = "alembic_version"
_PG_LOCK_ID = 0x616E6E657861  # "annexa": one advisory lock id for schema changes
# `revision = "0002"` and `down_revision = "0001"` (or `None`) in a migration script.
_REVISION_LINE = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(?:\"([^\"]+)\"|'([^']+)'|None)", re.M)


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str:
    """The revision no other script revises, read from the scripts' own `revision` and
    `down_revision` lines (a linear history, as Alembic itself requires of `upgrade head`)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for script in (MIGRATIONS / "versions").glob("*.py"):
        for name, double, single in _REVISION_LINE.findall(script.read_text(encoding="utf-8")):
            value = double or single
            if name == "revision":
                revisions.add(value)
            elif value:
                revised.add(value)
    heads = revisions - revised
    if len(heads) != 1:
        raise StoreError(f"the migrations in {MIGRATIONS} have {len(heads)} heads, not one")
    return heads.pop()


def _at_head(connection: Connection, head: str) -> bool:
    """Whether the version table holds exactly `head`: one plain query, no Alembic."""
    if not inspect(connection).has_table(VERSION_TABLE):
        return False
    return list(connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars()) == [head]


def current_revision(connection: Connection) -> str | None:
    from alembic.runtime.migration import MigrationContext

    return MigrationContext.configure(connection).get_current_revision()


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    database = engine.url.database
    if not database or database == ":memory:":
        yield
        return
    lock_path = Path(database).expanduser().resolve().with_name(Path(database).name + ".migrate-lock")
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _adopt(conn: Connection) -> str:
    """A store made before migrations existed has the first revision's tables, bar newer ones."""
    from alembic import command
    from sqlmodel import SQLModel

    SQLModel.metadata.create_all(conn, tables=[SQLModel.metadata.tables["lease"]])
    command.stamp(alembic_config(conn), FIRST)
    log.info("store_adopted", revision=FIRST)
    return FIRST


def upgrade(engine: Engine) -> None:
    """Upgrade to head if needed; a no-op costing one query when the store is current."""
    head = head_revision()
    with engine.connect() as conn:
        if _at_head(conn, head):
            return
    _migrate(engine, head)


def _create(conn: Connection, head: str) -> None:
    """A new store gets the models' tables at once and is stamped at `head`: what the migrations
    would build (tests/test_store.py compares the two), without importing Alembic.

    All or nothing: Python's sqlite3 opens a transaction only before a data change, so each CREATE
    would commit alone and a process killed half-way would leave a schema with no version. An
    explicit BEGIN makes SQLite's DDL transactional, as PostgreSQL's already is."""
    from sqlmodel import SQLModel

    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN")
    SQLModel.metadata.create_all(conn)
    conn.execute(
        text(
            f"CREATE TABLE {VERSION_TABLE} (version_num VARCHAR(32) NOT NULL, "
            f"CONSTRAINT {VERSION_TABLE}_pkc PRIMARY KEY (version_num))"
        )
    )
    conn.execute(text(f"INSERT INTO {VERSION_TABLE} (version_num) VALUES (:head)"), {"head": head})
    log.debug("store_created", revision=head)


def _migrate(engine: Engine, head: str) -> None:
    is_sqlite = engine.dialect.name == "sqlite"
    with _sqlite_file_lock(engine) if is_sqlite else nullcontext(), engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _PG_LOCK_ID})
        if not inspect(conn).get_table_names():
            return _create(conn, head)
        _upgrade(conn, head)


def _upgrade(conn: Connection, head: str) -> None:
    from alembic import command
    from alembic.script import ScriptDirectory

    current = current_revision(conn)
    if current == head:
        return
    if current is None and "run" in inspect(conn).get_table_names():
        current = _adopt(conn)
    known = {rev.revision for rev in ScriptDirectory.from_config(alembic_config()).walk_revisions()}
    if current is not None and current not in known:
        raise StoreError(
            f"the store's schema is at revision {current}, newer than this agent knows "
            f"(head {head}): upgrade annexa"
        )
    command.upgrade(alembic_config(conn), "head")
    # Building the schema beside other tables is routine; upgrading a store is worth telling the operator.
    (log.debug if current is None else log.info)("store_migrated", from_revision=current, to_revision=head)
