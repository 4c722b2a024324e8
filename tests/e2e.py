"""Dates for end-to-end tests that plant a timeline around today and run the real console script.

The product judges on its own clock, maybe a day later than the planting (past midnight UTC):
expected ages count from the day it judged on, read back from the store with `judged_on`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from agent.store import Store
from agent.store.schema import CheckRun

TODAY = datetime.now(UTC).date()


def day(offset: int) -> str:
    return (TODAY + timedelta(days=offset)).isoformat()


def at(offset: int) -> str:
    """A second before the day ends: ages counted in hours rather than calendar days fall a day short."""
    return f"{day(offset)}T23:59:59Z"


def judged_on(store: Store) -> date:
    """The UTC day of the latest evaluation: the "now" the product counted ages from."""
    with store.read() as s:
        latest = s.execute(select(CheckRun.evaluated_at).order_by(CheckRun.id.desc()).limit(1)).scalar_one()
    return latest.astimezone(UTC).date()
