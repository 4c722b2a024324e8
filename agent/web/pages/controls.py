"""The control list and a control's page: its checks, results per scope with the evidence they
cite, the history of their evaluations, and its attestations (with the form to add one)."""

from __future__ import annotations

import re
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import col
from starlette.datastructures import FormData, UploadFile
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from agent.audit.attestations import MAX_BYTES, attest, attestation_document, attestations
from agent.audit.catalog import annex_a
from agent.errors import UsageError
from agent.run.evaluate import active_checks
from agent.store.chain import read_counted
from agent.store.results import latest_check_runs, results_of
from agent.store.runs import proven_by
from agent.store.schema import CheckRun, Run
from agent.web.context import Web
from agent.web.pages.overview import statuses_of
from agent.web.roles import Can, User
from agent.web.routing import action, as_of, page, render, templates

LISTED = 10  # results shown per scope, failures first; every one with ?scopes=all, and in bundles
_ORDER = {"fail": 0, "error": 1, "pass": 2, "not_applicable": 3}
SCOPES = 10  # scopes shown per check (those failing or in error first) unless all are asked for
HISTORY = 60  # evaluations shown in a control's history
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._ -]")


@page()
def controls(request: Request, user: User, web: Web) -> Response:
    statuses = statuses_of(web, as_of(request, web))
    wanted = request.query_params.get("status", "")
    shown = [c for c in statuses if not wanted or c.status == wanted]
    return render(request, user, "controls.html", title="Controls", controls=shown, wanted=wanted)


def _scopes(web: Web, check_id: str, at: Any, every: bool) -> dict[str, Any]:
    """The check's latest evaluation per scope, failing and errored first; past SCOPES (unless
    `every`), the rest are counted by outcome, not listed."""
    runs = sorted(
        latest_check_runs(web.store, check_id, at),
        key=lambda c: (c.outcome not in ("fail", "error"), c.scope),
    )
    shown, rest = (runs, []) if every else (runs[:SCOPES], runs[SCOPES:])
    out = []
    for cr in shown:
        # Every result with the hashes of the evidence records it was judged on, failures first.
        rows = sorted(
            results_of(web.store, cr.result_set), key=lambda r: (_ORDER.get(r.status, 9), r.resource_id)
        )
        listed = rows if every else rows[:LISTED]
        out.append({"run": cr, "results": listed, "more": len(rows) - len(listed)})
    return {"shown": out, "rest": dict(sorted(Counter(cr.outcome for cr in rest).items()))}


def _history(web: Web, check_ids: list[str], at: Any) -> list[Any]:
    def fetch(counted: Any) -> list[Any]:
        with web.store.read() as s:
            return list(
                s.execute(
                    select(CheckRun)
                    .join(Run, col(Run.id) == CheckRun.run_id)
                    .where(counted, *proven_by(at), col(CheckRun.check_id).in_(check_ids))
                    .order_by(col(CheckRun.evaluated_at).desc(), col(CheckRun.id).desc())
                    .limit(HISTORY)
                ).scalars()
            )

    return read_counted(web.store, fetch) if check_ids else []


def _control(web: Web, cid: str, at: Any, every: bool) -> dict[str, Any]:
    """The control's checks with their latest results per scope, its history and attestations."""
    specs = [c for c in active_checks(web.registry, web.settings) if cid in c.controls]
    return {
        "checks": [{"spec": spec, "scopes": _scopes(web, spec.id, at, every)} for spec in specs],
        "history": _history(web, [s.id for s in specs], at),
        "attestations": [attestation_document(a) for a in attestations(web.store, at) if a.control_id == cid],
    }


@page()
def control(request: Request, user: User, web: Web) -> Response:
    cid = request.path_params["cid"]
    catalog = annex_a()
    if cid not in catalog:
        raise UsageError(f"{cid!r} is not an Annex A 2022 control")
    at = as_of(request, web)
    status = next(c for c in statuses_of(web, at) if c.id == cid)
    every = request.query_params.get("scopes") == "all"
    raw = request.query_params.get("as_of", "")

    def rendered() -> tuple[Markup, list[dict[str, Any]]]:
        shown = _control(web, cid, at, every)
        html = Markup(
            templates.get_template("control_checks.html").render(
                control=catalog[cid], checks=shown["checks"], history=shown["history"], as_of=raw
            )
        )
        return html, shown["attestations"]

    checks_html, vouches = web.sealed.read(web.store, ("control", cid, raw, every), rendered)
    return render(
        request, user, "control.html", title=f"{cid} {catalog[cid].title}", control=catalog[cid],
        summary=status, checks_html=checks_html, attestations=vouches,
    )  # fmt: skip


def _upload(form: FormData) -> UploadFile:
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UsageError("choose the file that shows the control operating")
    if upload.size is not None and upload.size > MAX_BYTES:
        raise UsageError(f"the file is larger than {MAX_BYTES // (1024 * 1024)} MB")
    return upload


@action(Can.ACT)
def attest_control(request: Request, user: User, web: Web, form: FormData) -> Response:
    """The uploaded file, under its own name (stripped of any path), attested as by the signed-in user."""
    cid = request.path_params["cid"]
    upload = _upload(form)
    days = str(form.get("valid_for_days") or "").strip()
    if days and not days.isdigit():
        raise UsageError("valid for: a whole number of days")
    name = _SAFE_NAME.sub("_", Path(upload.filename or "evidence").name)[:200] or "evidence"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        upload.file.seek(0)
        path.write_bytes(upload.file.read(MAX_BYTES + 1))
        attest(
            web.store, cid, path, actor=user.name, note=str(form.get("note") or ""),
            valid_for_days=int(days) if days else None,
        )  # fmt: skip
    return RedirectResponse(f"/controls/{cid}#attestations", status_code=303)
