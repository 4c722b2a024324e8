"""An audit period from the store: the plan (settings and plugins) and the sealed facts it is judged on.

Everything is read under the counted-runs rule (agent/store/chain.py): only sealed entries on the
chain, of a status checks rely on, with valid signatures. An evaluation whose row no longer matches
its sealed hash reads as `error`, as everywhere else. Rows are read as plain columns, not ORM
objects: a year of daily runs over hundreds of checks and scopes is some 100,000 evaluations.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, select, tuple_
from sqlmodel import col

from agent.audit.attestations import attestation_document
from agent.audit.catalog import annex_a
from agent.audit.period import (
    CheckPlan,
    Collection,
    ControlPlan,
    Facts,
    NcInfo,
    Plan,
    Scoped,
    SourcePlan,
    Step,
    Vouch,
    period_report,
)
from agent.audit.sealed_outcome import sealed_outcome
from agent.audit.windows import Evaluation
from agent.config.settings import Settings
from agent.errors import UsageError
from agent.plugin.registry import Registry
from agent.run.evaluate import active_checks
from agent.store import Store
from agent.store.chain import chain_state, read_counted
from agent.store.db import chunks
from agent.store.schema import Attestation, CheckRun, NcTransition, NcVersion, Observation, Run


def day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def bounds(first: date, last: date, now: datetime) -> tuple[datetime, datetime]:
    """[first 00:00, the day after last 00:00) in UTC, ended at `now` if that comes first."""
    if first > last:
        raise UsageError("--from is after --to")
    start = day_start(first)
    end = min(day_start(last) + timedelta(days=1), now)
    if end <= start:
        raise UsageError(f"the period starting {first.isoformat()} has not begun yet")
    return start, end


def plan_of(
    settings: Settings,
    registry: Registry,
    first: date,
    last: date,
    now: datetime,
    controls: Iterable[str] | None = None,
) -> Plan:
    """Which controls and checks the period judges, and each check's cadence and sources' freshness."""
    start, end = bounds(first, last, now)
    catalog = annex_a()
    wanted = list(controls) if controls else list(catalog)
    excluded = settings.controls.excluded
    checks = active_checks(registry, settings)
    planned = [
        ControlPlan(
            id=cid,
            title=catalog[cid].title,
            theme=catalog[cid].theme,
            checks=tuple(c.id for c in checks if cid in c.controls),
        )
        for cid in catalog
        if cid in wanted and cid not in excluded
    ]
    used = {cid for c in planned for cid in c.checks}
    return Plan(
        first=first,
        last=last,
        start=start,
        end=end,
        controls=planned,
        checks={
            c.id: CheckPlan(
                id=c.id,
                title=c.title,
                needs=tuple(c.needs),
                sources=tuple(
                    SourcePlan(
                        n,
                        settings.schedule.cadence_for(n),
                        settings.freshness_for(n, registry.collectors[n].freshness),
                    )
                    for n in c.needs
                ),
            )
            for c in checks
            if c.id in used
        },
        excluded={cid: why for cid, why in excluded.items() if cid in wanted},
    )


def _in_runs(rows: Iterable[Any], runs: dict[int, str]) -> list[Any]:
    return [r for r in rows if r.run_id in runs]


class _Reader:
    """The sealed rows of the period's counted entries (and, for the registers, of every counted
    entry finished before the period's end)."""

    def __init__(self, store: Store, plan: Plan) -> None:
        self.store, self.plan = store, plan
        rows = read_counted(store, self._runs)
        self.uids: dict[int, str] = {r.run_id: r.uid for r in rows}
        self.span = (min(self.uids, default=0), max(self.uids, default=0))

    def _runs(self, counted: ColumnElement[bool]) -> list[Row[Any]]:
        with self.store.read() as s:
            return list(
                s.execute(
                    select(col(Run.id).label("run_id"), col(Run.uid)).where(
                        counted,
                        col(Run.finished_at) >= self.plan.start,
                        col(Run.finished_at) < self.plan.end,
                    )
                )
            )

    def last_root(self) -> str | None:
        with self.store.read() as s:
            ordered = chain_state(s, self.store.keys, signatures=False).ordered
        return next((r.root_hash for r in reversed(ordered) if r.id in self.uids), None)

    def evaluations(self) -> list[Scoped]:
        c = CheckRun
        with self.store.read() as s:
            rows = s.execute(
                select(
                    col(c.run_id), col(c.check_id), col(c.scope), col(c.evaluated_at), col(c.outcome),
                    col(c.passed), col(c.failed), col(c.errored), col(c.not_applicable),
                    col(c.result_set), col(c.hash),
                ).where(
                    col(c.run_id).between(*self.span),
                    col(c.check_id).in_(sorted(self.plan.checks)),
                    col(c.evaluated_at) >= self.plan.start,
                    col(c.evaluated_at) < self.plan.end,
                )
            ).all()  # fmt: skip
        out = []
        for run_id, check_id, scope, at, outcome, passed, failed, errored, na, result_set, digest in rows:
            uid = self.uids.get(run_id)
            if uid is None:
                continue
            row = (check_id, scope, at.isoformat(), outcome, passed, failed, errored, na, result_set)
            out.append(Scoped(check_id, scope, Evaluation(at, sealed_outcome(uid, row, digest))))
        return out

    def collections(self, sources: set[str]) -> list[Collection]:
        o = Observation
        with self.store.read() as s:
            rows = s.execute(
                select(col(o.run_id), col(o.source), col(o.scope), col(o.collected_at), col(o.status)).where(
                    col(o.run_id).between(*self.span), col(o.source).in_(sorted(sources))
                )
            )
            return [
                Collection(r.source, r.scope, r.collected_at, r.status == "ok")
                for r in _in_runs(rows, self.uids)
            ]

    def _registers(self, table: type[NcVersion | NcTransition], *columns: Any) -> list[Row[Any]]:
        """Rows of a register table from every counted entry finished before the period's end."""

        def fetch(counted: ColumnElement[bool]) -> list[Row[Any]]:
            with self.store.read() as s:
                return list(
                    s.execute(
                        select(*columns)
                        .join(Run, col(Run.id) == table.run_id)
                        .where(counted, col(Run.finished_at) < self.plan.end)
                    )
                )

        return read_counted(self.store, fetch)

    def ncs(self) -> list[NcInfo]:
        newest: dict[int, int] = {}
        for r in self._registers(
            NcVersion, col(NcVersion.run_id), col(NcVersion.nc_id), col(NcVersion.version)
        ):
            newest[r.nc_id] = max(newest.get(r.nc_id, 0), r.version)
        pairs = sorted(newest.items())
        with self.store.read() as s:
            docs = [
                doc
                for chunk in chunks(pairs)
                for doc in s.execute(
                    select(col(NcVersion.document)).where(
                        tuple_(col(NcVersion.nc_id), col(NcVersion.version)).in_(chunk)
                    )
                ).scalars()
            ]
        return sorted((nc_info(d) for d in docs), key=lambda n: n.id)

    def steps(self) -> list[Step]:
        t = NcTransition
        rows = self._registers(
            t, col(t.run_id), col(t.id), col(t.nc_id), col(t.at), col(t.from_state), col(t.to_state)
        )
        return [Step(r.nc_id, r.id, r.at, r.from_state, r.to_state) for r in rows]

    def vouches(self) -> list[Vouch]:
        def fetch(counted: ColumnElement[bool]) -> list[Attestation]:
            with self.store.read() as s:
                query = select(Attestation).join(Run, col(Run.id) == Attestation.run_id)
                return list(s.execute(query.where(counted, col(Run.finished_at) < self.plan.end)).scalars())

        return [
            Vouch(a.control_id, a.at, a.expires_at, vouch_document(attestation_document(a)))
            for a in read_counted(self.store, fetch)
        ]


def nc_info(doc: dict[str, Any]) -> NcInfo:
    """What the period needs of an NC, from a sealed version's document."""
    return NcInfo(
        id=doc["id"],
        check_id=doc["check_id"],
        scope=doc["scope"],
        title=doc["title"],
        controls=tuple(doc["controls"]),
        severity=doc["severity"],
    )


def vouch_document(doc: dict[str, Any]) -> dict[str, Any]:
    """An attestation as the period shows it (the fields of `attestation_document` a seal commits to)."""
    return {k: doc[k] for k in ("file", "sha256", "by", "at", "expires_at")}


def facts_of(store: Store, plan: Plan) -> Facts:
    reader = _Reader(store, plan)
    return Facts(
        entries=len(reader.uids),
        last_root=reader.last_root(),
        evaluations=reader.evaluations(),
        collections=reader.collections,
        steps=reader.steps(),
        ncs=reader.ncs(),
        vouches=reader.vouches(),
    )


def period_document(
    store: Store,
    settings: Settings,
    registry: Registry,
    first: date,
    last: date,
    now: datetime,
    controls: Iterable[str] | None = None,
) -> dict[str, Any]:
    """`annexa period` and a bundle's period.json: the period judged from the store's sealed data."""
    plan = plan_of(settings, registry, first, last, now, controls)
    with without_cycle_collection():
        return period_report(plan, facts_of(store, plan))


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """Build a year's rows (some 100,000 tuples, none in a reference cycle) without the collector
    walking every live object again and again as they pile up: it would more than double the time."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
