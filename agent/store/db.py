"""Engine, sessions and transactions for any SQLAlchemy URL (SQLite by default)."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import Any

import structlog
from sqlalchemy import event, inspect, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlmodel import Session, create_engine

from agent.errors import StoreError
from agent.store import schema  # noqa: F401  (registers the tables on SQLModel.metadata)
from agent.store.migrate import upgrade

log = structlog.get_logger()

BATCH = 500


def chunks(items: Sequence[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def insert_ignoring_duplicates(session: Session, model: type, rows: list[dict[str, Any]]) -> int:
    """INSERT ... ON CONFLICT DO NOTHING; returns how many rows this statement actually inserted."""
    dialect = session.get_bind().dialect.name
    table = model.__table__  # type: ignore[attr-defined]
    if dialect in ("sqlite", "postgresql"):
        insert = sqlite_insert if dialect == "sqlite" else pg_insert
        # RETURNING, not rowcount: psycopg reports -1 for multi-row VALUES.
        statement = insert(table).values(rows).on_conflict_do_nothing().returning(*table.primary_key.columns)
        return len(session.execute(statement).all())
    session.execute(table.insert(), rows)
    return len(rows)


def insert_missing(session: Session, model: type, key: str, rows: list[dict[str, Any]]) -> int:
    """Insert the rows whose key is not stored yet; returns how many this transaction inserted.

    Concurrent writers of the same content are harmless: keys go in sorted order, so two
    transactions never wait on each other's keys in opposite orders (no deadlock on PostgreSQL).
    """
    column = getattr(model, key)
    inserted = 0
    for chunk in chunks(sorted(rows, key=lambda r: r[key])):
        known = set(session.execute(select(column).where(column.in_([r[key] for r in chunk]))).scalars())
        fresh = [r for r in chunk if r[key] not in known]
        if fresh:
            inserted += insert_ignoring_duplicates(session, model, fresh)
    return inserted


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _first_line(exc: BaseException | None) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


def _redacted(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "<unparseable URL>"


class Store:
    """One engine per process. SQLite allows one writer: writes are serialised in-process."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            parsed = make_url(url)
        except ArgumentError:
            raise StoreError(f"[store] url: {_redacted(url)} is not a valid database URL") from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        if self.is_sqlite and parsed.database and parsed.database != ":memory:":
            parent = Path(parsed.database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"[store] url: directory {parent} does not exist")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (NoSuchModuleError, ModuleNotFoundError, ArgumentError) as exc:
            raise StoreError(f"[store] url: cannot use {_redacted(url)}: {exc}") from None
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas)
        self._write_lock = threading.RLock() if self.is_sqlite else None
        try:
            upgrade(self.engine)
        except OperationalError as exc:
            raise StoreError(f"[store] url: cannot open {_redacted(url)}: {_first_line(exc.orig)}") from None

    @contextmanager
    def read(self) -> Iterator[Session]:
        with Session(self.engine, expire_on_commit=False) as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A transaction: committed when the block ends, rolled back whole if it raises."""
        lock = self._write_lock
        if lock is not None:
            lock.acquire()
        try:
            with Session(self.engine, expire_on_commit=False) as session, session.begin():
                yield session
        finally:
            if lock is not None:
                lock.release()

    def tables(self) -> set[str]:
        return set(inspect(self.engine).get_table_names())

    def close(self) -> None:
        self.engine.dispose()
