"""The bundle's period part: period.json (`annexa period` over the bundle's period) and period.html.

The period is export's `--from`/`--to`; a bound left open is the day of the bundle's first or last
run. It ends at the day after `--to`, or earlier at the export's `--as-of` or the moment of export.
`annexa verify` re-derives period.json from the bundle's own files (agent/bundle/verify_period.py).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from agent.audit.period_read import period_document
from agent.bundle.review import BundleWriter
from agent.bundle.selection import Selection
from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store.types import utcnow

PERIOD = "period.json"
PERIOD_PAGE = "period.html"


def bundle_days(sel: Selection, start: date | None, end: date | None) -> tuple[date, date]:
    """The bundle's period in days: the ones given, else the days of its first and last run."""
    first, last = sel.runs[0].finished_at, sel.runs[-1].finished_at
    assert first is not None and last is not None  # sealed runs have finished
    return start or first.date(), end or last.date()


def write_period(
    w: BundleWriter,
    store: Store,
    settings: Settings,
    registry: Registry,
    sel: Selection,
    start: date | None,
    end: date | None,
) -> dict[str, Any]:
    first, last = bundle_days(sel, start, end)
    # The bundle holds entries finished up to and including --as-of: the period ends just after it.
    now: datetime = sel.as_of + timedelta(microseconds=1) if sel.as_of is not None else utcnow()
    doc = period_document(store, settings, registry, first, last, now, sel.controls or None)
    w.json(PERIOD, doc)
    w.write(PERIOD_PAGE, render_period(doc))
    return doc


def render_period(doc: dict[str, Any]) -> str:
    from agent.bundle.pages import render_page

    p = doc["period"]
    return render_page(
        "period.html.j2",
        title=f"Operating effectiveness, {p['from']} to {p['to']}",
        period=doc,
        checks={c["id"]: c for c in doc["checks"]},
    )
