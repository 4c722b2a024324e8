"""Operating effectiveness over an audit period: did each control operate throughout it?

Pure: a `Plan` (the period, its controls and checks, each check's cadence and sources' freshness)
and the sealed `Facts` of the period (evaluations, collections, NC history, attestations) give the
report, whether the facts come from the store (agent/audit/period_read.py) or from a bundle's own
files (agent/bundle/verify_period.py re-derives a bundle's period.json this way).

Only evaluations of sealed, counted entries finished in the period and evaluated inside it count.
Each check is judged per scope in the windows of its cadence (agent/audit/windows.py); a stand-in
scope (a system or target whose parts could not be listed) is folded into its parts, and a check
never evaluated is judged at its system's scope, where every window is a gap. A control with no
automated check is `manual`, with whether its attestations were valid across the whole period.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, NamedTuple

from agent.audit.nonconformities import ACTIVE
from agent.audit.windows import (
    ERROR,
    MANUAL,
    NOT_COLLECTED,
    RANK,
    STALE,
    Evaluation,
    cadence_document,
    days,
    iso,
    schedule_text,
    scope_report,
    windows,
)
from agent.config.cadence import Cadence
from agent.run.evaluate import related, system_of

OPEN_STATES = frozenset(s.value for s in ACTIVE)


@dataclass(frozen=True)
class SourcePlan:
    source: str
    cadence: Cadence
    freshness: timedelta


@dataclass(frozen=True)
class CheckPlan:
    id: str
    title: str
    needs: tuple[str, ...]
    sources: tuple[SourcePlan, ...]

    @property
    def cadence(self) -> Cadence:
        """The slowest of its sources' schedules: it cannot be judged on fresh evidence more often."""
        return max((s.cadence for s in self.sources), key=lambda c: c.period)


@dataclass(frozen=True)
class ControlPlan:
    id: str
    title: str
    theme: str
    checks: tuple[str, ...]


@dataclass
class Plan:
    first: date
    last: date
    start: datetime
    end: datetime  # exclusive: the day after `last`, or the moment the report was made if earlier
    controls: list[ControlPlan]
    checks: dict[str, CheckPlan]
    excluded: dict[str, str]


class Scoped(NamedTuple):
    check_id: str
    scope: str
    evaluation: Evaluation


class Collection(NamedTuple):
    source: str
    scope: str
    at: datetime
    ok: bool


@dataclass(frozen=True)
class Step:
    nc: int
    order: int
    at: datetime
    from_state: str | None
    to_state: str


@dataclass(frozen=True)
class NcInfo:
    id: int
    check_id: str
    scope: str
    title: str
    controls: tuple[str, ...]
    severity: str

    @property
    def ref(self) -> str:
        return f"NC-{self.id:04d}"


@dataclass(frozen=True)
class Vouch:
    control: str
    at: datetime
    expires_at: datetime | None
    document: dict[str, Any]


@dataclass
class Facts:
    entries: int  # sealed, counted chain entries finished in the period
    last_root: str | None
    evaluations: list[Scoped]
    collections: Callable[[set[str]], list[Collection]]  # the period's collections of these sources
    steps: list[Step] = field(default_factory=list)
    ncs: list[NcInfo] = field(default_factory=list)
    vouches: list[Vouch] = field(default_factory=list)


def period_report(plan: Plan, facts: Facts) -> dict[str, Any]:
    """The period.json document: the plan it was judged by, and every conclusion with its reasons."""
    nc_of = {(n.check_id, n.scope): n.ref for n in facts.ncs}
    causes = _Causes(facts)
    by_check: dict[str, list[Scoped]] = defaultdict(list)
    for found in facts.evaluations:
        by_check[found.check_id].append(found)
    checks = [_check(plan, spec, by_check[spec.id], causes, nc_of) for spec in plan.checks.values()]
    conclusions = {c["id"]: c["conclusion"] for c in checks}
    ncs = _nonconformities(plan, facts)
    controls = [_control(plan, c, conclusions, ncs, facts.vouches) for c in plan.controls]
    summary = {k: 0 for k in (*RANK, MANUAL)}
    for c in controls:
        summary[c["conclusion"]] += 1
    return {
        "period": {
            "from": plan.first.isoformat(),
            "to": plan.last.isoformat(),
            "start": iso(plan.start),
            "end": iso(plan.end),
            "sealed_entries": facts.entries,
            "last_root": facts.last_root,
        },
        "summary": summary,
        "controls": controls,
        "checks": checks,
        "nonconformities": ncs,
        "excluded": dict(sorted(plan.excluded.items())),
    }


def _scopes(spec: CheckPlan, found: list[Scoped]) -> dict[str, list[Evaluation]]:
    """Evaluations per scope, a stand-in's folded into each of its parts."""
    own: dict[str, list[Evaluation]] = defaultdict(list)
    for s in found:
        own[s.scope].append(s.evaluation)
    if not own:
        return {system_of(spec.needs[0]): []}
    names = sorted(own)
    stand_ins = {s for s in names if any(t.startswith(s + ":") for t in names)}
    return {
        t: sorted(
            (e for s in names if s == t or (s in stand_ins and t.startswith(s + ":")) for e in own[s]),
            key=lambda e: e.at,
        )
        for t in names
        if t not in stand_ins
    }


def _check(
    plan: Plan,
    spec: CheckPlan,
    mine: list[Scoped],
    causes: _Causes,
    nc_of: dict[tuple[str, str], str],
) -> dict[str, Any]:
    spans = windows(spec.cadence, plan.start, plan.end)
    scopes = [
        {
            "scope": scope,
            **scope_report(spans, found, partial(causes.of, spec, scope), nc_of.get((spec.id, scope))),
        }
        for scope, found in _scopes(spec, mine).items()
    ]
    return {
        "id": spec.id,
        "title": spec.title,
        "controls": [c.id for c in plan.controls if spec.id in c.checks],
        "needs": list(spec.needs),
        "cadence": cadence_document(spec.cadence),
        "sources": [
            {
                "source": s.source,
                "schedule": schedule_text(s.cadence),
                "freshness_seconds": int(s.freshness.total_seconds()),
            }
            for s in spec.sources
        ],
        "conclusion": max((s["conclusion"] for s in scopes), key=RANK.__getitem__),
        "scopes": scopes,
    }


class _Causes:
    """Why an `error` evaluation gave no evidence, from the period's collections of its sources:
    the newest collection of each needed source in a related scope at that moment failed
    (`error`), was older than the source's freshness limit (`stale`), or there was none
    (`not collected`); with all of them fresh, the check itself erred (`error`)."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts
        self.index: dict[str, dict[str, tuple[list[datetime], list[bool]]]] = {}

    def _of_source(self, source: str) -> dict[str, tuple[list[datetime], list[bool]]]:
        """Each scope's collections of `source` in time order, read the first time one is asked."""
        if source not in self.index:
            scopes: dict[str, tuple[list[datetime], list[bool]]] = {}
            for c in sorted(self.facts.collections({source}), key=lambda c: c.at):
                times, oks = scopes.setdefault(c.scope, ([], []))
                times.append(c.at)
                oks.append(c.ok)
            self.index[source] = scopes
        return self.index[source]

    def of(self, spec: CheckPlan, scope: str, e: Evaluation) -> str:
        primary = system_of(spec.needs[0])
        found: set[str] = set()
        for plan in spec.sources:
            state = NOT_COLLECTED
            for where, (times, oks) in self._of_source(plan.source).items():
                if not related(scope, where, system_of(plan.source) == primary):
                    continue
                n = bisect_right(times, e.at) - 1
                if n < 0:
                    continue
                if not oks[n]:
                    state = ERROR
                    break
                if e.at - times[n] > plan.freshness:
                    state = STALE
                elif state == NOT_COLLECTED:
                    state = "fresh"
            found.add(state)
        return next((c for c in (ERROR, STALE, NOT_COLLECTED) if c in found), ERROR)


def _nonconformities(plan: Plan, facts: Facts) -> list[dict[str, Any]]:
    """Every NC of the period's controls that was open at its start or moved during it."""
    wanted = {c.id for c in plan.controls}
    steps: dict[int, list[Step]] = defaultdict(list)
    for s in sorted(facts.steps, key=lambda s: (s.at, s.order)):
        if s.at < plan.end:
            steps[s.nc].append(s)
    out = []
    for nc in sorted(facts.ncs, key=lambda n: n.id):
        mine = steps.get(nc.id, [])
        before = [s for s in mine if s.at < plan.start]
        inside = [s for s in mine if s.at >= plan.start]
        at_start = before[-1].to_state if before else None
        if (not inside and at_start not in OPEN_STATES) or not wanted & set(nc.controls):
            continue
        out.append(_nc_document(plan, nc, mine, inside, at_start))
    return out


def _opens(s: Step) -> bool:
    return s.from_state is None or (s.from_state == "closed" and s.to_state != "closed")


def _nc_document(
    plan: Plan, nc: NcInfo, mine: list[Step], inside: list[Step], at_start: str | None
) -> dict[str, Any]:
    at_end = mine[-1].to_state if mine else None
    closes = [s for s in inside if s.to_state == "closed"]
    upto = closes[-1].at if closes and at_end == "closed" else plan.end
    opening = next((s for s in reversed(mine) if _opens(s) and s.at <= upto), None)
    closed = closes[-1] if closes and at_end == "closed" else None
    return {
        "id": nc.ref,
        "check_id": nc.check_id,
        "scope": nc.scope,
        "title": nc.title,
        "controls": list(nc.controls),
        "severity": nc.severity,
        "state_at_start": at_start,
        "state_at_end": at_end,
        "opened_in_period": any(_opens(s) for s in inside),
        "closed_in_period": bool(closes),
        "opened_at": iso(opening.at) if opening else None,
        "closed_at": iso(closed.at) if closed else None,
        "days_to_close": days(closed.at - opening.at) if closed and opening else None,
        "days_open": days(plan.end - opening.at) if at_end in OPEN_STATES and opening else None,
        "steps": [{"at": iso(s.at), "from": s.from_state, "to": s.to_state} for s in inside],
    }


def _nc_lists(control: str, ncs: list[dict[str, Any]]) -> dict[str, list[str]]:
    mine = [n for n in ncs if control in n["controls"]]
    return {
        "opened": [n["id"] for n in mine if n["opened_in_period"]],
        "closed": [n["id"] for n in mine if n["closed_in_period"]],
        "rejected": [n["id"] for n in mine if any(s["to"] == "rejected" for s in n["steps"])],
        "still_open": [n["id"] for n in mine if n["state_at_end"] in OPEN_STATES],
    }


def _control(
    plan: Plan,
    control: ControlPlan,
    conclusions: dict[str, str],
    ncs: list[dict[str, Any]],
    vouches: list[Vouch],
) -> dict[str, Any]:
    mine = [v for v in vouches if v.control == control.id]
    automated = [conclusions[c] for c in control.checks]
    return {
        "id": control.id,
        "title": control.title,
        "theme": control.theme,
        "conclusion": max(automated, key=RANK.__getitem__) if automated else MANUAL,
        "checks": list(control.checks),
        "nonconformities": _nc_lists(control.id, ncs),
        "attestations": _coverage(plan, mine) if mine or not automated else None,
    }


def _coverage(plan: Plan, vouches: Iterable[Vouch]) -> dict[str, Any]:
    """Whether attestations were valid across the whole period, and when none was."""
    spans = sorted(
        (
            (max(v.at, plan.start), min(v.expires_at or plan.end, plan.end), v)
            for v in vouches
            if v.at < plan.end and (v.expires_at is None or v.expires_at > plan.start)
        ),
        key=lambda span: (span[0], span[1]),
    )
    uncovered, reached = [], plan.start
    for a, b, _ in spans:
        if a > reached:
            uncovered.append({"start": iso(reached), "end": iso(a)})
        reached = max(reached, b)
    if reached < plan.end:
        uncovered.append({"start": iso(reached), "end": iso(plan.end)})
    return {
        "valid_throughout": not uncovered,
        "uncovered": uncovered,
        "attestations": [v.document for _, _, v in spans],
    }
