"""The overview's trends agree, day by day, with what `controls --as-of` and `nc list --as-of` show."""

from __future__ import annotations

from datetime import time, timedelta

import pytest

from agent.audit.asof import active_at
from agent.audit.controls import control_statuses
from agent.audit.trends import daily_trend
from tests.period_store import DAYS, FAILING_DAYS, FIRST_DAY, PeriodStore, at, build_period_store


@pytest.fixture(scope="module")
def period(tmp_path_factory: pytest.TempPathFactory) -> PeriodStore:
    return build_period_store(tmp_path_factory.mktemp("trends"))


def test_each_day_matches_the_as_of_views_at_its_end(period: PeriodStore) -> None:
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    days = daily_trend(period.store, period.settings, period.registry, last, DAYS + 2)
    assert [d.day for d in days] == [FIRST_DAY + timedelta(days=n) for n in range(-2, DAYS)]
    for n, d in enumerate(days[2:], start=1):
        end = at(n, time(23, 59, 59, 999999))
        statuses = control_statuses(period.store, period.settings, period.registry, end)
        assert d.failing_controls == sum(c.status == "failing" for c in statuses), d
        assert d.open_ncs == len(active_at(period.store, end)), d
    assert days[0].failing_controls == days[0].open_ncs == 0  # before the first run
    failing = [d.day for d in days if d.failing_controls]
    assert failing == [FIRST_DAY + timedelta(days=n - 1) for n in FAILING_DAYS]
    assert [d.open_ncs for d in days[2:]][7:14] == [1, 1, 1, 1, 1, 1, 0]  # opened day 8, closed day 14


def test_a_window_inside_the_history_starts_from_what_was_proven_before_it(period: PeriodStore) -> None:
    last = FIRST_DAY + timedelta(days=10)
    days = daily_trend(period.store, period.settings, period.registry, last, 2)
    assert [(d.failing_controls, d.open_ncs) for d in days] == [(1, 1), (1, 1)]
