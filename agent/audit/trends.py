"""Trends for the dashboard: failing controls and open NCs at the end of each day, from sealed data.

One pass over the window's evaluations and NC steps in time order, starting from what was proven at
the window's start: a day's figure is what the register and the latest evaluations showed at its
end, the way `controls --as-of` and `nc list --as-of` would show it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.sql import ColumnElement
from sqlmodel import col

from agent.audit.asof import active_at
from agent.audit.nonconformities import ACTIVE
from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.run.evaluate import active_checks
from agent.store import Store
from agent.store.chain import read_counted
from agent.store.results import latest_check_runs
from agent.store.runs import proven_by
from agent.store.schema import CheckRun, NcTransition, Run


@dataclass(frozen=True)
class Day:
    day: date
    failing_controls: int
    open_ncs: int


def _end_of(d: date) -> datetime:
    return datetime.combine(d + timedelta(days=1), time.min, tzinfo=UTC)


def _rows_after(
    store: Store,
    model: type[CheckRun] | type[NcTransition],
    when: str,
    names: tuple[str, ...],
    start: datetime,
    end: datetime,
) -> list[Row[Any]]:
    """`names`, `when` and `run_id` of the counted rows in (start, end], in time order. Rows, not
    tuples: read_counted checks the signature of each row's run."""
    at = getattr(model, when)

    def fetch(counted: ColumnElement[bool]) -> list[Row[Any]]:
        with store.read() as s:
            query = (
                select(*(getattr(model, n) for n in (*names, when, "run_id")))
                .join(Run, col(Run.id) == model.run_id)
                .where(counted, *proven_by(end), at > start)
                .order_by(at, col(model.id))
            )
            return list(s.execute(query))

    return read_counted(store, fetch)


def daily_trend(store: Store, settings: Settings, registry: Registry, last: date, days: int) -> list[Day]:
    """`days` days ending with `last` (included): failing controls and open NCs at each day's end."""
    first = last - timedelta(days=days - 1)
    start, end = _end_of(first - timedelta(days=1)), _end_of(last)
    excluded = settings.controls.excluded
    controls_of = {
        c.id: [k for k in c.controls if k not in excluded] for c in active_checks(registry, settings)
    }

    outcome = {(cr.check_id, cr.scope): cr.outcome for cr in latest_check_runs(store, at=start)}
    fails: Counter[str] = Counter(check for (check, _), o in outcome.items() if o == "fail")
    state = {int(d["id"].split("-")[1]): d["state"] for d in active_at(store, start)}

    by_day: dict[date, list[tuple[datetime, int, tuple[str, ...]]]] = defaultdict(list)
    for r in _rows_after(store, CheckRun, "evaluated_at", ("check_id", "scope", "outcome"), start, end):
        by_day[r.evaluated_at.date()].append((r.evaluated_at, 0, (r.check_id, r.scope, r.outcome)))
    for r in _rows_after(store, NcTransition, "at", ("nc_id", "to_state"), start, end):
        by_day[r.at.date()].append((r.at, 1, (str(r.nc_id), r.to_state)))

    active = {s.value for s in ACTIVE}
    out_days = []
    for n in range(days):
        d = first + timedelta(days=n)
        for _, kind, event in sorted(by_day.get(d, []), key=lambda e: (e[0], e[1])):
            if kind == 0:
                check, scope, result = event
                before = outcome.get((check, scope))
                fails[check] += (result == "fail") - (before == "fail")
                outcome[(check, scope)] = result
            else:
                state[int(event[0])] = event[1]
        failing = {k for check, n_fail in fails.items() if n_fail > 0 for k in controls_of.get(check, [])}
        out_days.append(Day(d, len(failing), sum(1 for s in state.values() if s in active)))
    return out_days
