"""Choosing what a bundle holds: the spine up to the period's last entry, the period's runs with
everything they wrote, and the registers (each NC as its last sealed version, its sealed history,
the attestations), with the seal lists a verifier needs to prove each of them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlmodel import SQLModel, col

from agent.audit.nonconformities import register_document
from agent.bundle.layout import row_doc, version_doc
from agent.errors import Unverifiable, UsageError
from agent.plugin.registry import Registry
from agent.store import Store
from agent.store.chain import ChainState, chain_state
from agent.store.schema import Attestation, CheckRun, NcTransition, NcVersion, Observation, Run, SealedRow
from agent.store.types import utcnow


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def segment(state: ChainState, start: datetime, end: datetime) -> tuple[list[Run], list[Run]]:
    """The spine from the first entry to the period's last, and the period's runs: every sealed
    entry finished in [start, end), contiguous from the first to the last."""
    ordered = state.ordered
    inside = [i for i, r in enumerate(ordered) if r.finished_at and start <= r.finished_at < end]
    if not inside:
        return [], []
    return ordered[: inside[-1] + 1], ordered[inside[0] : inside[-1] + 1]


@dataclass
class Selection:
    """What goes in: the spine, the runs of the period with everything they wrote, and the registers
    (NCs as their last sealed version up to the head, their history, attestations)."""

    spine: list[Run]
    runs: list[Run]
    rows: dict[type[SQLModel], list[Any]]
    checks: list[str]
    sources: set[str]
    controls: list[str]
    versions: list[NcVersion]
    transitions: list[NcTransition]
    attestations: list[Attestation]
    as_of: datetime | None = None  # the store as it stood then (`export --as-of`); None: now

    def of_run(self, model: type[SealedRow], run: Run) -> list[SealedRow]:
        return [x for x in self.rows[model] if x.run_id == run.id]

    def wanted(self, controls: list[str]) -> bool:
        return not self.controls or bool(set(self.controls) & set(controls))


def rows_of(s: Session, model: type[SealedRow], run_ids: list[int]) -> list[SealedRow]:
    """Rows written by these runs (a range query, filtered here: the list may be long)."""
    wanted = set(run_ids)
    rows = s.execute(
        select(model).where(col(model.run_id).between(min(wanted), max(wanted))).order_by(col(model.id))
    ).scalars()
    return [x for x in rows if x.run_id in wanted]


def select_bundle(
    store: Store,
    registry: Registry,
    start: date | None,
    end: date | None,
    controls: list[str],
    as_of: datetime | None = None,
) -> Selection:
    """With `as_of`, the store as it stood then: entries finished after it do not exist yet, so the
    spine, the period and the registers (each NC's last version, its history) all end there."""
    lo = day_start(start) if start else datetime.min.replace(tzinfo=UTC)
    if end is None:
        hi = utcnow() + timedelta(seconds=1)
    else:
        hi = day_start(end + timedelta(days=1)) if end < date.max else datetime.max.replace(tzinfo=UTC)
    if as_of is not None:
        hi = min(hi, as_of + timedelta(microseconds=1))
    with store.read() as s:
        state = chain_state(s, store.keys)
    off = [f"run {rid} {why}" for rid, why in sorted(state.problems.items()) if rid not in state.legacy]
    if off:
        raise Unverifiable(f"the store's chain does not verify ({off[0]}): run `annexa verify --store`")
    spine, runs = segment(state, lo, hi)
    if not runs:
        when = f" as of {as_of.isoformat()}" if as_of is not None else ""
        raise UsageError(f"no sealed run in that period{when}: collect first, or widen --from/--to")
    checks = sorted(c.id for c in registry.checks.values() if not controls or set(controls) & set(c.controls))
    period = [r.id for r in runs if r.id is not None]
    upto = [r.id for r in spine if r.id is not None]
    with store.read() as s:
        rows: dict[type[SQLModel], list[Any]] = {
            Observation: rows_of(s, Observation, period),
            CheckRun: rows_of(s, CheckRun, period),
            NcVersion: rows_of(s, NcVersion, period),
            NcTransition: rows_of(s, NcTransition, period),
            Attestation: rows_of(s, Attestation, period),
        }
        latest: dict[int, NcVersion] = {}
        for v in rows_of(s, NcVersion, upto):
            if v.nc_id not in latest or v.version > latest[v.nc_id].version:
                latest[v.nc_id] = v
        sel = Selection(
            spine=spine,
            runs=runs,
            rows=rows,
            checks=checks,
            sources={
                n for cid in checks for n in (*registry.checks[cid].needs, *registry.checks[cid].context)
            },
            controls=controls,
            versions=[],
            transitions=[],
            attestations=[],
            as_of=as_of,
        )
        sel.versions = [v for _, v in sorted(latest.items()) if sel.wanted(v.document["controls"])]
        kept = {v.nc_id for v in sel.versions}
        sel.transitions = [t for t in rows_of(s, NcTransition, upto) if t.nc_id in kept]
        sel.attestations = [a for a in rows_of(s, Attestation, upto) if sel.wanted([a.control_id])]
    return sel


def register_lists(store: Store, sel: Selection) -> dict[str, dict[str, list[Any]]]:
    """For each entry an exported NC version, history step or attestation comes from: the full
    lists its seal commits to, so a verifier proves membership without the entry's evidence."""
    entries: list[NcVersion | NcTransition | Attestation] = [
        *sel.versions,
        *sel.transitions,
        *sel.attestations,
    ]
    ids = sorted({x.run_id for x in entries if x.run_id is not None})
    if not ids:
        return {}
    with store.read() as s:
        versions = rows_of(s, NcVersion, ids)
        transitions = rows_of(s, NcTransition, ids)
        attestations = rows_of(s, Attestation, ids)
    return {
        str(rid): {
            "ncs": sorted([v.nc_id, v.version, v.hash] for v in versions if v.run_id == rid),
            "transitions": sorted(t.hash or "" for t in transitions if t.run_id == rid),
            "attestations": sorted(a.hash or "" for a in attestations if a.run_id == rid),
        }
        for rid in ids
    }


def nc_register(sel: Selection) -> list[dict[str, Any]]:
    """Each NC as its last sealed version up to the head says, with its sealed history."""
    steps: dict[int, list[dict[str, Any]]] = {}
    for t in sel.transitions:
        steps.setdefault(t.nc_id, []).append(row_doc(t))
    return [
        {
            **register_document(v.document),
            "history": steps.get(v.nc_id, []),
            "sealed": {**version_doc(v), "run_id": v.run_id},
        }
        for v in sel.versions
    ]
