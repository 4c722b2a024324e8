"""The audit period's view (did each control operate throughout) and samples drawn from it."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from agent.audit.period_read import bounds, period_document
from agent.audit.samples import draw, known
from agent.errors import UsageError
from agent.web.context import Web
from agent.web.roles import Can, User
from agent.web.routing import page, render

DEFAULT_DAYS = 90


def _days(request: Request, web: Web) -> tuple[date, date]:
    today = web.clock().date()
    try:
        last = date.fromisoformat(request.query_params.get("to") or today.isoformat())
        first = date.fromisoformat(
            request.query_params.get("from") or (last - timedelta(days=DEFAULT_DAYS - 1)).isoformat()
        )
    except ValueError:
        raise UsageError("from and to are days such as 2026-01-31") from None
    bounds(first, last, web.clock())
    return first, last


@page()
def period(request: Request, user: User, web: Web) -> Response:
    first, last = _days(request, web)
    doc = period_document(web.store, web.settings, web.registry, first, last, web.clock())
    checks = {c["id"]: c for c in doc["checks"]}
    return render(
        request, user, "period.html", title="Audit period", doc=doc, checks=checks,
        first=first.isoformat(), last=last.isoformat(),
    )  # fmt: skip


@page(Can.SAMPLE)
def samples(request: Request, user: User, web: Web) -> Response:
    first, last = _days(request, web)
    population = request.query_params.get("population", "")
    sample: dict[str, Any] | None = None
    if population:
        sample = draw(web.store, web.registry, web.settings, population, first, last)
    return render(
        request, user, "samples.html", title="Samples", populations=known(web.registry),
        population=population, sample=sample, first=first.isoformat(), last=last.isoformat(),
    )  # fmt: skip
