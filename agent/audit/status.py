"""What `annexa status` reports: recent runs and how fresh each source's evidence is."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from agent.audit.nonconformities import open_by_severity
from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.store import Store, leases
from agent.store.chain import badly_signed, chain_state
from agent.store.observations import latest_observations
from agent.store.schema import Run

_WORST = ("error", "stale", "fresh")


def evidence_states(
    store: Store, settings: Settings, registry: Registry, now: datetime
) -> list[dict[str, Any]]:
    """Each source and scope's latest observation: fresh, stale or error, with its age and limit."""
    out = []
    for obs in latest_observations(store, registry.collectors, None):
        spec = registry.collectors[obs.source]
        limit = settings.freshness_for(obs.source, spec.freshness)
        age = now - obs.collected_at
        state = "error" if obs.status != "ok" else ("stale" if age > limit else "fresh")
        out.append(
            {
                "source": obs.source,
                "scope": obs.scope,
                "state": state,
                "collected_at": obs.collected_at.isoformat(),
                "age_hours": round(age.total_seconds() / 3600, 2),
                "limit_hours": round(limit.total_seconds() / 3600, 2),
                "records": obs.record_count,
                "error": obs.error,
            }
        )
    return out


def worst_state(states: list[str]) -> str:
    """`error` beats `stale` beats `fresh`; nothing collected is `missing`."""
    return next((s for s in _WORST if s in states), "missing")


def status_document(store: Store, settings: Settings, registry: Registry, now: datetime) -> dict[str, Any]:
    with store.read() as s:
        runs = s.execute(select(Run).order_by(col(Run.id).desc()).limit(10)).scalars().all()
        nc_counts = open_by_severity(s)
        problems = chain_state(s, store.keys, signatures=False).problems
    for rid in badly_signed(store, [r.id for r in runs]):
        problems[rid] = "its signature does not verify under the store's key"
    evidence = evidence_states(store, settings, registry, now)
    return {
        "runs": [
            {
                "id": r.id,
                "kind": r.kind,
                "status": r.status,
                "started_at": r.started_at.isoformat(),
                "finished_at": r.finished_at.isoformat() if r.finished_at else None,
                "root_hash": r.root_hash,
                # Only a validly sealed run counts; say why one does not (`annexa verify --store`).
                "seal": "running" if r.status == "running" else problems.get(r.id or 0, "valid"),
            }
            for r in runs
        ],
        "evidence": evidence,
        "open_nonconformities": {sev: nc_counts.get(sev, 0) for sev in ("major", "minor", "ofi")},
        "leases": [
            {
                "target": c.key,
                "holder": f"annexa {c.kind}",
                "host": c.host,
                "pid": c.pid,
                "run_id": c.run_id,
                "expires_at": c.expires_at.isoformat(),
            }
            for c in leases.current(store)
        ],
    }
