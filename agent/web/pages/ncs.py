"""The NC register with its filters, one NC with its history and timeline, and the forms that move
it on (clause 10.2), each recorded with the signed-in user as the actor."""

from __future__ import annotations

from datetime import date
from typing import Any
from urllib.parse import urlencode

from starlette.background import BackgroundTask
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.audit.asof import history_at, nc_versions_at, registers_at
from agent.audit.nc_actions import ALLOWED, Change, apply
from agent.audit.nonconformities import (
    MAX_NC_ID,
    NcState,
    history,
    list_ncs,
    nc_document,
    nc_record,
    parse_ref,
    register_document,
)
from agent.errors import UsageError
from agent.integrations.hooks import after_nc_action
from agent.plugin.model import Severity
from agent.store.results import latest_check_runs, results_of
from agent.store.schema import Nonconformity
from agent.tickets.links import tickets_of
from agent.web.context import Web
from agent.web.roles import Can, User
from agent.web.routing import action, as_of, page, render

STATES = [s.value for s in NcState]
SEVERITIES = [s.value for s in Severity]
FILTERS = ("state", "severity", "control", "q")
PAGE = 100  # NCs per page of the register


def _matches(doc: dict[str, Any], f: dict[str, str]) -> bool:
    text = f["q"].lower()
    return (
        (not f["state"] or doc["state"] == f["state"])
        and (not f["severity"] or doc["severity"] == f["severity"])
        and (not f["control"] or f["control"] in doc["controls"])
        and (not text or any(text in str(doc[k]).lower() for k in ("id", "check_id", "title", "scope")))
    )


def _register(web: Web, at: Any) -> list[dict[str, Any]]:
    if at is not None:
        return registers_at(web.store, at)
    with web.store.read() as s:
        return [nc_document(nc) for nc in list_ncs(s)]


def _page_number(request: Request) -> int:
    raw = request.query_params.get("page", "1")
    if not raw.isdigit() or not 1 <= int(raw) <= 1_000_000:
        raise UsageError(f"page {raw!r} is not a page number")
    return int(raw)


@page()
def register(request: Request, user: User, web: Web) -> Response:
    at = as_of(request, web)
    f = {k: request.query_params.get(k, "").strip() for k in FILTERS}
    if f["state"] and f["state"] not in STATES:
        raise UsageError(f"state {f['state']!r} is not one of {', '.join(STATES)}")
    number = _page_number(request)
    docs = web.sealed.read(web.store, ("register", at), lambda: _register(web, at))
    matching = [d for d in docs if _matches(d, f)]
    pages = max(1, -(-len(matching) // PAGE))
    query = urlencode({k: v for k, v in {**f, "as_of": request.query_params.get("as_of", "")}.items() if v})
    return render(
        request, user, "ncs.html", title="Nonconformities", ncs=matching[(number - 1) * PAGE : number * PAGE],
        matching=len(matching), total=len(docs), f=f, states=STATES, severities=SEVERITIES,
        page_number=number, pages=pages, query=query,
    )  # fmt: skip


def _number(ref: str) -> int:
    number = parse_ref(ref)
    if number is None or number > MAX_NC_ID:
        raise UsageError(f"{ref!r} is not a nonconformity id such as NC-0001")
    return number


def _entry(web: Web, number: int, at: Any) -> dict[str, Any]:
    """The register entry with every clause 10.2 field and the history: now, or as sealed by `at`."""
    doc: dict[str, Any] | None = None
    if at is not None:
        versions = nc_versions_at(web.store, at, number)
        if versions:
            record = versions[0].document
            doc = {**record, **register_document(record), "transitions": history_at(web.store, number, at)}
    else:
        with web.store.read() as s:
            nc = s.get(Nonconformity, number)
            if nc is not None:
                doc = {**nc_record(nc), **nc_document(nc), "transitions": history(s, nc)}
    if doc is None:
        raise UsageError(f"no nonconformity NC-{number:04d}")
    return doc


def _reasons(web: Web, doc: dict[str, Any]) -> dict[str, str]:
    """Why each failing resource fails, from the check's latest sealed evaluation in the scope."""
    latest = [cr for cr in latest_check_runs(web.store, doc["check_id"]) if cr.scope == doc["scope"]]
    if not latest:
        return {}
    wanted = set(doc["failing_resources"])
    return {
        r.resource_id: r.reason
        for r in results_of(web.store, latest[0].result_set)
        if r.resource_id in wanted and r.status in ("fail", "error")
    }


def _shown(web: Web, number: int, at: Any) -> tuple[dict[str, Any], dict[str, str]]:
    doc = _entry(web, number, at)
    return doc, _reasons(web, doc) if at is None else {}


@page()
def nonconformity(request: Request, user: User, web: Web) -> Response:
    number = _number(request.path_params["ref"])
    at = as_of(request, web)
    doc, reasons = web.sealed.read(web.store, ("nc", number, at), lambda: _shown(web, number, at))
    possible = [a for a, (sources, _) in ALLOWED.items() if NcState(doc["state"]) in sources]
    return render(
        request, user, "nc.html", title=f"{doc['id']} {doc['title']}", nc=doc,
        tickets=tickets_of(web.store, [number]).get(number, []),  # a tracker's word: read each time
        reasons=reasons, actions=possible if at is None else [],
        severities=SEVERITIES, today=web.clock().date().isoformat(), error="",
    )  # fmt: skip


def _text(form: FormData, name: str) -> str | None:
    value = str(form.get(name) or "").strip()
    return value or None


def _change(form: FormData) -> Change:
    due = _text(form, "due_date")
    severity = _text(form, "severity")
    try:
        return Change(
            reason=_text(form, "reason") or "",
            severity=Severity(severity) if severity else None,
            nature=_text(form, "nature"),
            correction=_text(form, "correction"),
            root_cause=_text(form, "root_cause"),
            corrective_action=_text(form, "corrective_action"),
            owner=_text(form, "owner"),
            due_date=date.fromisoformat(due) if due else None,
            effectiveness_review=_text(form, "effectiveness_review"),
        )
    except ValueError as exc:
        raise UsageError(f"the form has a value that is not valid: {exc}") from None


@action(Can.ACT)
def act(request: Request, user: User, web: Web, form: FormData) -> Response:
    """Apply the action; a refused one re-shows the NC with the reason, changing nothing."""
    number = _number(request.path_params["ref"])
    name = request.path_params["action"]
    if name not in ALLOWED:
        raise UsageError(f"{name!r} is not an action on a nonconformity")
    try:
        apply(web.store, f"NC-{number:04d}", name, user.name, _change(form))
    except UsageError as exc:
        doc = _entry(web, number, None)
        possible = [a for a, (sources, _) in ALLOWED.items() if NcState(doc["state"]) in sources]
        return render(
            request, user, "nc.html", status=400, title=doc["id"], nc=doc, reasons=_reasons(web, doc),
            tickets=tickets_of(web.store, [number]).get(number, []),
            actions=possible, severities=SEVERITIES, today=web.clock().date().isoformat(), error=str(exc),
        )  # fmt: skip
    tell = BackgroundTask(after_nc_action, web.store, web.settings, number, name)
    return RedirectResponse(f"/ncs/NC-{number:04d}", status_code=303, background=tell)
