"""The Statement of Applicability: every Annex A control, whether it applies, and how it stands."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from pathlib import Path
from typing import Any

from agent.audit.controls import control_statuses
from agent.audit.status import evidence_states, worst_state
from agent.config.settings import Settings
from agent.errors import UsageError
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store.results import latest_check_runs
from agent.tables import save_xlsx, table_csv

COLUMNS = [
    "control",
    "theme",
    "title",
    "applicable",
    "justification",
    "implementation",
    "checks",
    "resources_passing",
    "resources_failing",
    "resources_error",
    "evidence",
    "open_nonconformities",
    "attestation",
    "attestation_expires",
]


def soa_rows(
    store: Store, settings: Settings, registry: Registry, now: datetime, at: datetime | None = None
) -> list[dict[str, Any]]:
    """One row per control; with `at`, as the store had proven it then (agent/audit/asof.py)."""
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for cr in latest_check_runs(store, at=at):
        tally = counts[cr.check_id]
        tally[0], tally[1], tally[2] = tally[0] + cr.passed, tally[1] + cr.failed, tally[2] + cr.errored
    by_source: dict[str, list[str]] = defaultdict(list)
    for e in evidence_states(store, settings, registry, now, at):
        by_source[e["source"]].append(e["state"])
    rows = []
    for c in control_statuses(store, settings, registry, at):
        sources = {n for check_id in c.checks for n in registry.checks[check_id].needs}
        totals = [sum(counts[check_id][i] for check_id in c.checks) for i in range(3)]
        if not c.applicable:
            why = c.justification
        elif c.checks:
            why = f"Applicable; evidenced continuously by {len(c.checks)} automated check(s)"
        else:
            why = "Applicable; evidenced manually"
        rows.append(
            {
                "control": c.id,
                "theme": c.theme,
                "title": c.title,
                "applicable": c.applicable,
                "justification": why,
                "implementation": c.status,
                "checks": sorted(c.checks),
                "resources_passing": totals[0],
                "resources_failing": totals[1],
                "resources_error": totals[2],
                "evidence": worst_state([s for src in sources for s in by_source.get(src, ["missing"])])
                if sources
                else "n/a",
                "open_nonconformities": c.open_nonconformities,
                "attestation": (c.attestation or {}).get("file", ""),
                "attestation_expires": (c.attestation or {}).get("expires_at") or "",
            }
        )
    return rows


def render_csv(rows: list[dict[str, Any]]) -> str:
    return table_csv(COLUMNS, rows)


def write_soa(rows: list[dict[str, Any]], fmt: str, out: Path | None) -> str | None:
    """Write to `out`, or return the text for stdout (xlsx needs a file)."""
    if fmt == "json":
        text = json.dumps(rows, indent=2)
    elif fmt == "csv":
        text = render_csv(rows)
    else:
        if out is None:
            raise UsageError("--format xlsx needs --out FILE.xlsx")
        save_xlsx(COLUMNS, rows, "Statement of Applicability", out)
        return None
    if out is None:
        return text
    out.write_text(text, encoding="utf-8")
    return None
