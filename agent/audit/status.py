"""What `annexa status` reports: recent runs and how fresh each source's evidence is."""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlmodel import col

from agent.audit.asof import active_at, observations_at, runs_at
from agent.audit.nonconformities import open_by_severity
from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.store import Store, leases
from agent.store.chain import badly_signed, chain_state
from agent.store.observations import latest_observations
from agent.store.schema import Observation, Run

_WORST = ("error", "stale", "fresh")


def evidence_states(
    store: Store, settings: Settings, registry: Registry, now: datetime, at: datetime | None = None
) -> list[dict[str, Any]]:
    """Each source and scope's latest observation: fresh, stale or error, with its age and limit;
    with `at`, the latest proven by then, aged at `at` (agent/audit/asof.py)."""
    return states_of(observed(store, registry, at), settings, registry, at or now)


def observed(store: Store, registry: Registry, at: datetime | None = None) -> list[Observation]:
    """The latest observation of each source and scope (proven by `at`, if given)."""
    if at is not None:
        return observations_at(store, registry.collectors, at)
    return latest_observations(store, registry.collectors, None)


def states_of(
    observations: list[Observation], settings: Settings, registry: Registry, now: datetime
) -> list[dict[str, Any]]:
    """The observations aged at `now` against each source's freshness limit."""
    out = []
    limits = {
        source: settings.freshness_for(source, registry.collectors[source].freshness)
        for source in {obs.source for obs in observations}
    }
    for obs in observations:
        limit = limits[obs.source]
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


def status_document(
    store: Store, settings: Settings, registry: Registry, now: datetime, at: datetime | None = None
) -> dict[str, Any]:
    """Recent runs, evidence and open NCs; with `at`, as the store had proven them then (sealed
    entries finished by `at`; leases are of the moment, so none is shown)."""
    with store.read() as s:
        problems = chain_state(s, store.keys, signatures=False).problems
        runs = list(s.execute(select(Run).order_by(col(Run.id).desc()).limit(10)).scalars())
        nc_counts = open_by_severity(s)
    if at is not None:
        runs, nc_counts = runs_at(store, at), dict(Counter(d["severity"] for d in active_at(store, at)))
    for rid in badly_signed(store, [r.id for r in runs]):
        problems[rid] = "its signature does not verify under the store's key"
    evidence = evidence_states(store, settings, registry, now, at)
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
            for c in (leases.current(store) if at is None else [])
        ],
    }
