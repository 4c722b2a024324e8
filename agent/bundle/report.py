"""The bundle's index.html: control -> checks -> results -> evidence -> NCs, with no external asset.

Every value is autoescaped, and the page carries a Content-Security-Policy that allows nothing but its
own stylesheet (by hash): no script, no request, no form. An auditor opens a page whose text came
from the systems under audit, so markup that slipped through escaping still could not run or call out.
"""

from __future__ import annotations

import base64
import hashlib
from collections import defaultdict
from typing import Any

from jinja2 import Environment, PackageLoader
from markupsafe import Markup
from sqlalchemy import select
from sqlmodel import col

from agent.run.evaluate import related, system_of
from agent.store import Store
from agent.store.schema import CheckRun, Observation, ResultRow, Run

LISTED = 200  # failing/error results shown per check and scope; the rest are in results/*.json

_loader = PackageLoader("agent.bundle", "templates")
_env = Environment(loader=_loader, autoescape=True)


def _style() -> tuple[Markup, str]:
    """The stylesheet to inline and its CSP hash source (the hash of exactly the text between the tags)."""
    css = _loader.get_source(_env, "report.css")[0]
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return Markup(css), f"sha256-{digest}"


def _problems(store: Store, set_hash: str) -> tuple[list[ResultRow], int]:
    with store.read() as s:
        rows = list(
            s.execute(
                select(ResultRow)
                .where(col(ResultRow.set_hash) == set_hash, col(ResultRow.status).in_(["fail", "error"]))
                .order_by(col(ResultRow.status).desc(), col(ResultRow.resource_id))
                .limit(LISTED + 1)
            ).scalars()
        )
    return rows[:LISTED], max(0, len(rows) - LISTED)


def render_index(
    *,
    runs: list[Run],
    controls: list[dict[str, Any]],
    checks: list[dict[str, Any]],
    check_runs: list[CheckRun],
    store: Store,
    trees: dict[tuple[str, str], str],
    observations: list[Observation],
    ncs: list[dict[str, Any]],
    attestations: list[dict[str, Any]],
    fingerprint: str,
) -> str:
    by_check: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for cr in sorted(check_runs, key=lambda c: (c.check_id, c.scope)):
        spec = next(c for c in checks if c["id"] == cr.check_id)
        primary = system_of(spec["needs"][0])
        evidence = [
            {
                "source": o.source,
                "scope": o.scope,
                "status": o.status,
                "error": o.error,
                "path": trees.get((o.source, o.tree_hash or "")),
            }
            for o in observations
            if o.source in spec["needs"] and related(cr.scope, o.scope, system_of(o.source) == primary)
        ]
        rows, more = _problems(store, cr.result_set)
        by_check[cr.check_id].append(
            {
                "run": cr,
                "problems": rows,
                "more": more,
                "evidence": evidence,
                "results_path": f"results/{cr.result_set}.json",
            }
        )
    nc_by_control: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for nc in ncs:
        for control in nc["controls"]:
            nc_by_control[control].append(nc)
    style, style_hash = _style()
    return _env.get_template("index.html.j2").render(
        style=style,
        style_hash=style_hash,
        runs=runs,
        controls=controls,
        checks=checks,
        by_check=by_check,
        ncs=ncs,
        nc_by_control=nc_by_control,
        attestations=attestations,
        fingerprint=fingerprint,
        head=runs[-1],
    )
