"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import JSON, DateTime
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect


class JsonColumn(TypeDecorator[object]):
    """JSON; JSONB on PostgreSQL. The PostgreSQL dialect is imported only when it is in use, so a
    SQLite store's commands do not pay for it."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[object]:
        if dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import JSONB

            return dialect.type_descriptor(JSONB())
        return dialect.type_descriptor(JSON())


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC and always gives back an aware datetime (SQLite forgets the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class _Clock:
    shift = timedelta(0)  # how far `utcnow` is from the wall clock; only `clock_at` changes it


def utcnow() -> datetime:
    """The product's one clock: every stored time, and the "now" checks judge against, come from here."""
    return datetime.now(UTC) + _Clock.shift


@contextmanager
def clock_at(moment: datetime) -> Iterator[None]:
    """Inside the block `utcnow()` starts at `moment` and advances with real time, in every thread.

    The demo replays past days through the product's own runs, NC actions and seals with it, so
    its history is written (and sealed) exactly as a real one would have been.
    """
    saved = _Clock.shift
    _Clock.shift = moment - datetime.now(UTC)
    try:
        yield
    finally:
        _Clock.shift = saved
