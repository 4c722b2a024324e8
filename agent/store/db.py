"""Engine, sessions and transactions for any SQLAlchemy URL (SQLite by default)."""

from __future__ import annotations

import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote_plus

from sqlalchemy import Table, event, insert, inspect, select
from sqlalchemy.engine import Engine, ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Mapped, Session
from sqlalchemy.sql.dml import Insert
from sqlmodel import SQLModel, create_engine

from agent.errors import StoreBusy, StoreError
from agent.private_files import create_private
from agent.redact import MASK, SECRET_KEY_NAMES
from agent.store import schema  # noqa: F401  (registers the tables on SQLModel.metadata)
from agent.store.migrate import upgrade

if TYPE_CHECKING:
    from agent.store.chain import SealKeys

BATCH = 500


def chunks(items: Iterable[Any], size: int = BATCH) -> Iterable[Sequence[Any]]:
    it = iter(items)
    while chunk := list(islice(it, size)):
        yield chunk


def table_of(model: type[SQLModel]) -> Table:
    """The table a table model maps to (SQLModel sets `__table__` without declaring it)."""
    table = inspect(model).local_table
    assert isinstance(table, Table)
    return table


def _ignoring_duplicates(session: Session, table: Table) -> Insert | None:
    """INSERT ... ON CONFLICT DO NOTHING in the dialect's own INSERT, imported when used (a SQLite
    store's commands never load PostgreSQL's); None for a dialect without one."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects import sqlite

        return sqlite.insert(table).on_conflict_do_nothing()
    if dialect == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(table).on_conflict_do_nothing()
    return None


def insert_ignoring_duplicates(
    session: Session, model: type[SQLModel], rows: list[dict[str, Any]]
) -> list[tuple[Any, ...]]:
    """INSERT ... ON CONFLICT DO NOTHING; returns the primary keys of the rows it actually inserted."""
    table = table_of(model)
    key = table.primary_key.columns
    statement = _ignoring_duplicates(session, table)
    if statement is None:
        session.execute(table.insert(), rows)
        return [tuple(row[c.name] for c in key) for row in rows]
    # RETURNING, not rowcount: psycopg reports -1 for multi-row VALUES.
    return [tuple(row) for row in session.execute(statement.values(rows).returning(*key))]


def insert_all(session: Session, rows: Sequence[SQLModel]) -> None:
    """Insert new rows of one table whose ids nobody reads back, in one executemany: the ORM
    inserts rows with a generated key one statement each on SQLite (whose RETURNING order is not
    guaranteed), a cost that counts when a run records hundreds of them."""
    if rows:
        session.execute(insert(type(rows[0])), [row.model_dump(exclude={"id"}) for row in rows])


def insert_missing(session: Session, model: type[SQLModel], key: str, rows: list[dict[str, Any]]) -> None:
    """Insert the rows whose key is not stored yet.

    Concurrent writers of the same content are harmless: keys go in sorted order, so two
    transactions never wait on each other's keys in opposite orders (no deadlock on PostgreSQL).
    One executemany per batch: a multi-row VALUES would be compiled anew for every batch size, and
    compiling it cost more than sending the rows when a listing has thousands of them.
    """
    column: Mapped[str] = getattr(model, key)
    table = table_of(model)
    statement = _ignoring_duplicates(session, table)
    for chunk in chunks(sorted(rows, key=lambda r: r[key])):
        known = set(session.execute(select(column).where(column.in_([r[key] for r in chunk]))).scalars())
        fresh = [r for r in chunk if r[key] not in known]
        if fresh:
            session.execute(table.insert() if statement is None else statement, fresh)


def _wal(cur: Any, wait: float) -> None:
    """Switch the file to WAL (persistent: once done, every later connection finds it so).

    The switch needs the file to itself and SQLite does not wait for it: agents starting together
    on a new store find it locked while one of them creates the schema, so retry for as long as a
    write would wait (`wait`: the URL's `timeout`, else SQLITE_TIMEOUT)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            if cur.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cur.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _sqlite_pragmas(wait: float) -> Callable[[Any, Any], None]:
    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        _wal(cur, wait)
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.close()

    return on_connect


def _sqlite_wait(query: Mapping[str, Any]) -> float:
    """Seconds a connection waits for a lock: the URL's `timeout`, else SQLITE_TIMEOUT."""
    try:
        return float(query["timeout"]) if "timeout" in query else SQLITE_TIMEOUT
    except (TypeError, ValueError):
        return SQLITE_TIMEOUT


def _first_line(exc: BaseException | None) -> str:
    return (str(exc).strip().splitlines() or [""])[0]


# A write waits this long (seconds) for another process's lock before the command exits 75;
# `sqlite:///annexa.db?timeout=5` changes it (on PostgreSQL: `?options=-c lock_timeout=5s`).
SQLITE_TIMEOUT = 30.0
# SQLite primary result codes SQLITE_BUSY and SQLITE_LOCKED; PostgreSQL lock_not_available
# (lock_timeout, NOWAIT), serialization_failure and deadlock_detected.
_SQLITE_BUSY = frozenset({5, 6})
_PG_BUSY = frozenset({"55P03", "40001", "40P01"})

# Done on the text, not on a parsed URL, so that a URL SQLAlchemy cannot parse is masked too:
# everything between `://` and the last `@` after the user name, and secret-named query values.
_USERINFO = re.compile(r"(?<=://)([^:/?#@]*):(.*)(?=@)")
_QUERY_VALUE = re.compile(r"([?&]([^=&#]*)=)([^&#]*)")


def is_busy(exc: BaseException) -> bool:
    """Whether a DBAPI error means another process holds a lock: the command may succeed later."""
    code = getattr(exc, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in _SQLITE_BUSY
    return getattr(exc, "sqlstate", None) in _PG_BUSY


def _secrets(url: str) -> set[str]:
    """The password and secret query values of `url`, as written and percent-decoded."""
    found = {m.group(2) for m in _USERINFO.finditer(url)}
    found |= {m.group(3) for m in _QUERY_VALUE.finditer(url) if SECRET_KEY_NAMES.search(m.group(2))}
    found |= {unquote_plus(s) for s in found}
    return {s for s in found if s}


def _redacted(url: str) -> str:
    masked = _USERINFO.sub(lambda m: f"{m.group(1)}:{MASK}", url)
    masked = _QUERY_VALUE.sub(
        lambda m: m.group(1) + MASK if SECRET_KEY_NAMES.search(m.group(2)) else m.group(0), masked
    )
    return _scrubbed(masked, url)  # the password repeated elsewhere in the URL, too


def _scrubbed(text: str, url: str) -> str:
    """`text` (a driver's message, which may echo its connection string) without `url`'s secrets."""
    for secret in sorted(_secrets(url), key=len, reverse=True):
        text = text.replace(secret, MASK)
    return text


def _cannot_open(url: str, exc: DBAPIError) -> StoreError:
    return StoreError(f"[store] url: cannot open {_redacted(url)}: {_scrubbed(_first_line(exc.orig), url)}")


def _create_database_file(path: Path) -> None:
    """Create the database 0600 before SQLite does (it would use 0644); its -wal and -shm files
    take the database's mode. A database that exists keeps the mode its owner gave it."""
    try:
        create_private(path).close()
    except FileExistsError:
        pass
    except OSError as exc:
        raise StoreError(f"[store] url: cannot create {path}: {exc.strerror}") from None


class Store:
    """One engine per process. SQLite allows one writer: writes are serialised in-process."""

    def __init__(self, url: str, keys: SealKeys | None = None) -> None:
        self.url = url
        self.keys = keys  # signs the seals this agent writes, and checks every seal it reads
        try:
            parsed = make_url(url)
        except (ArgumentError, ValueError):  # ValueError: a port that is not a number
            raise StoreError(f"[store] url: {_redacted(url)} is not a valid database URL") from None
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        database = parsed.database if self.is_sqlite and parsed.database != ":memory:" else None
        if database:
            parent = Path(database).expanduser().resolve().parent
            if not parent.is_dir():
                raise StoreError(f"[store] url: directory {parent} does not exist")
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            kwargs["connect_args"] = {"check_same_thread": False}
            if "timeout" not in parsed.query:
                kwargs["connect_args"]["timeout"] = SQLITE_TIMEOUT
        try:
            self.engine: Engine = create_engine(url, **kwargs)
        except (NoSuchModuleError, ModuleNotFoundError, ArgumentError, ValueError) as exc:
            raise StoreError(
                f"[store] url: cannot use {_redacted(url)}: {_scrubbed(str(exc), url)}"
            ) from None
        if database and "uri" not in parsed.query:
            _create_database_file(Path(database).expanduser())
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_pragmas(_sqlite_wait(parsed.query)))
        event.listen(self.engine, "handle_error", self._busy)
        self._write_lock = threading.RLock() if self.is_sqlite else None
        try:  # connecting first tells a bad host or option (exit 2) from a failing migration (exit 3)
            self.engine.connect().close()
        except DBAPIError as exc:
            raise _cannot_open(url, exc) from None
        try:
            upgrade(self.engine)
        except OperationalError as exc:
            raise _cannot_open(url, exc) from None

    def _busy(self, context: ExceptionContext) -> None:
        """Another process's lock, wherever the store is used, ends the command with exit 75."""
        if is_busy(context.original_exception):
            raise StoreBusy(f"store busy: {_redacted(self.url)} is locked by another process, try again")

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
