"""The overview (controls by status, open NCs by severity, evidence freshness, trends) and the
evidence page (freshness per source and scope)."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agent.audit.asof import active_at
from agent.audit.controls import ControlStatus, control_statuses
from agent.audit.nonconformities import open_by_severity
from agent.audit.status import observed, states_of, worst_state
from agent.audit.trends import Day, daily_trend
from agent.web.charts import line_chart, stacked_bar
from agent.web.context import Web
from agent.web.roles import User
from agent.web.routing import as_of, page, render

TREND_DAYS = 30
STATUSES = ("failing", "error", "passing", "manual", "excluded")
SEVERITIES = ("major", "minor", "ofi")


def _trend(web: Web, at: datetime | None) -> list[Day]:
    last = (at or web.clock()).date()
    return web.sealed.read(
        web.store,
        ("trend", last),
        lambda: daily_trend(web.store, web.settings, web.registry, last, TREND_DAYS),
    )


def statuses_of(web: Web, at: datetime | None) -> list[ControlStatus]:
    return web.sealed.read(
        web.store, ("statuses", at), lambda: control_statuses(web.store, web.settings, web.registry, at)
    )


def evidence_of(web: Web, at: datetime | None) -> list[dict[str, Any]]:
    """Each source and scope's latest observation, aged now (or at `at`)."""
    observations = web.sealed.read(web.store, ("observed", at), lambda: observed(web.store, web.registry, at))
    return states_of(observations, web.settings, web.registry, at or web.clock())


def _open_ncs(web: Web, at: datetime | None) -> dict[str, int]:
    if at is not None:
        counts = Counter(d["severity"] for d in active_at(web.store, at))
    else:
        with web.store.read() as s:
            counts = Counter(open_by_severity(s))
    return {sev: counts.get(sev, 0) for sev in SEVERITIES}


def _freshness(web: Web, at: datetime | None) -> list[dict[str, Any]]:
    """Per source: its worst state across scopes, how many scopes, and the oldest collection."""
    by_source: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for e in evidence_of(web, at):
        by_source[e["source"]].append(e)
    return [
        {
            "source": source,
            "state": worst_state([e["state"] for e in rows]),
            "scopes": len(rows),
            "oldest": min(e["collected_at"] for e in rows)[:16].replace("T", " "),
            "age_hours": max(e["age_hours"] for e in rows),
            "limit_hours": min(e["limit_hours"] for e in rows),
        }
        for source, rows in sorted(by_source.items())
    ]


@page()
def overview(request: Request, user: User, web: Web) -> Response:
    at = as_of(request, web)
    statuses = statuses_of(web, at)
    by_status = Counter(c.status for c in statuses)
    ncs = _open_ncs(web, at)
    days = _trend(web, at)
    chart = line_chart(
        [d.day for d in days],
        [
            ("failing controls", "line-failing", [d.failing_controls for d in days]),
            ("open nonconformities", "line-ncs", [d.open_ncs for d in days]),
        ],
    )
    return render(
        request,
        user,
        "overview.html",
        title="Overview",
        statuses={s: by_status.get(s, 0) for s in STATUSES},
        status_bar=stacked_bar([(s, s, by_status.get(s, 0)) for s in STATUSES]),
        failing=[c for c in statuses if c.status == "failing"],
        ncs=ncs,
        nc_bar=stacked_bar([(s, s, ncs[s]) for s in SEVERITIES]),
        freshness=_freshness(web, at),
        chart=chart,
    )


@page()
def evidence(request: Request, user: User, web: Web) -> Response:
    at = as_of(request, web)
    rows = evidence_of(web, at)
    rows.sort(key=lambda e: (e["source"], e["scope"]))
    return render(request, user, "evidence.html", title="Evidence", rows=rows)
