"""`annexa verify`: re-derive a bundle's period.json from the bundle's own files.

period.json names the plan it was judged by: the period, the controls with their checks, each
check's sources with their schedules and freshness limits, the exclusions. The verifier holds that
plan against the bundle (the period against the manifest, every control either judged or excluded,
every check against checks.json, no check evaluated in the period left out of a control it maps
to), then judges the period again, with the code `annexa period` uses, from the sealed runs,
NC history and attestations in the bundle, and names every conclusion, window or failure that
period.json states differently. The plan's settings themselves (schedules, freshness) are the
auditee's, shown to the auditor as declared.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agent.audit.catalog import annex_a
from agent.audit.period import (
    CheckPlan,
    Collection,
    ControlPlan,
    Facts,
    Plan,
    Scoped,
    SourcePlan,
    Step,
    Vouch,
    period_report,
)
from agent.audit.period_read import day_start, nc_info, vouch_document, without_cycle_collection
from agent.audit.sealed_outcome import sealed_outcome
from agent.audit.windows import Evaluation, cadence_of
from agent.bundle.layout import ATTESTATIONS, CHAIN, MANIFEST, NCS, RUNS
from agent.bundle.period_part import PERIOD
from agent.bundle.zipsafe import BundleError, read_bounded
from agent.proof import Report
from agent.store.chain import COUNTED
from agent.store.hashing import COUNTS

MAX_PERIOD = 64 << 20
SHOWN = 5  # differences named one by one; the rest are counted


class _Shape(BaseModel):
    model_config = ConfigDict(strict=True)


class _Bounds(_Shape):
    first: str = Field(alias="from")
    to: str
    start: str
    end: str


class _Source(_Shape):
    source: str
    schedule: str
    freshness_seconds: int


class _Check(_Shape):
    id: str
    title: str
    needs: list[str]
    sources: list[_Source]


class _Control(_Shape):
    id: str
    title: str
    theme: str
    checks: list[str]


class _Declared(_Shape):
    period: _Bounds
    controls: list[_Control]
    checks: list[_Check]
    excluded: dict[str, str]


def _at(value: Any) -> datetime:
    if not isinstance(value, str):
        raise TypeError(f"{value!r} is not a timestamp")
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone")
    return moment


def check_period(zf: zipfile.ZipFile, files: list[Any], docs: dict[str, Any], r: Report) -> None:
    """Re-derive period.json (when the manifest lists it) from the bundle's runs and registers."""
    listed = {f.path: f for f in files}
    if PERIOD not in listed:  # made before bundles carried it: a derived report, its runs are all here
        r.notes.append(f"no {PERIOD} in this bundle: its operating effectiveness was not reported")
        return
    if PERIOD not in zf.namelist() or not {CHAIN, RUNS, NCS, ATTESTATIONS, "checks.json"} <= set(docs):
        return  # named already: a missing file, or a document that could not be read
    body = read_bounded(zf, PERIOD, MAX_PERIOD)
    if hashlib.sha256(body).hexdigest() != listed[PERIOD].sha256:
        return  # named already as a modified file
    try:
        declared = json.loads(body)
        plan = _plan(_Declared.model_validate(declared))
        manifest = json.loads(read_bounded(zf, MANIFEST, MAX_PERIOD))
        problems = _held(plan, declared, manifest, docs)
        if not problems:
            with without_cycle_collection():
                derived = period_report(plan, _facts(plan, docs))
            problems = list(differences(declared, derived, PERIOD))
    except ValidationError as exc:
        first = exc.errors()[0]
        problems = [f"{PERIOD}: {'.'.join(map(str, first['loc'])) or 'document'}: {first['msg']}"]
    except BundleError:
        raise
    except (KeyError, TypeError, ValueError, AttributeError, RecursionError) as exc:
        problems = [f"{PERIOD}: cannot be re-derived from the bundle ({type(exc).__name__}: {exc})"]
    r.problems.extend(problems[:SHOWN])
    if len(problems) > SHOWN:
        r.problems.append(f"{PERIOD}: and {len(problems) - SHOWN} more difference(s)")


def _plan(d: _Declared) -> Plan:
    return Plan(
        first=date.fromisoformat(d.period.first),
        last=date.fromisoformat(d.period.to),
        start=_at(d.period.start),
        end=_at(d.period.end),
        controls=[ControlPlan(c.id, c.title, c.theme, tuple(c.checks)) for c in d.controls],
        checks={
            c.id: CheckPlan(
                c.id,
                c.title,
                tuple(c.needs),
                tuple(
                    SourcePlan(s.source, cadence_of(s.schedule), timedelta(seconds=s.freshness_seconds))
                    for s in c.sources
                ),
            )
            for c in d.checks
        },
        excluded=d.excluded,
    )


def _held(plan: Plan, declared: dict[str, Any], manifest: dict[str, Any], docs: dict[str, Any]) -> list[str]:
    """The declared plan against the bundle: what period.json may not choose for itself."""
    out: list[str] = []
    runs = docs[RUNS]
    finished = [_at(d["identity"]["finished_at"]) for d in runs]
    given = manifest.get("period") or {}
    days = (
        given.get("from") or finished[0].date().isoformat(),
        given.get("to") or finished[-1].date().isoformat(),
    )
    if (declared["period"]["from"], declared["period"]["to"]) != days:
        out.append(
            f"{PERIOD}: the period {declared['period']['from']}..{declared['period']['to']} is not the bundle's {days[0]}..{days[1]}"
        )
    if plan.start != day_start(plan.first) or not max(finished) < plan.end <= day_start(
        plan.last
    ) + timedelta(days=1):
        out.append(f"{PERIOD}: the period's start or end does not match its days and the bundle's runs")
    ids = [c.id for c in plan.controls]
    wanted = set(manifest.get("controls") or annex_a())
    if len(set(ids)) != len(ids) or set(ids) & set(plan.excluded) or set(ids) | set(plan.excluded) != wanted:
        out.append(
            f"{PERIOD}: the controls judged and excluded are not exactly the bundle's {len(wanted)} controls"
        )
    specs = {c["id"]: c for c in docs["checks.json"]}
    for c in plan.controls:
        for check_id in c.checks:
            spec, mine = specs.get(check_id), plan.checks.get(check_id)
            if spec is None or mine is None or c.id not in spec.get("controls", {}):
                out.append(f"{PERIOD}: {c.id} is judged by {check_id}, which checks.json does not map to it")
            elif list(mine.needs) != spec["needs"] or [s.source for s in mine.sources] != spec["needs"]:
                out.append(f"{PERIOD}: {check_id}'s sources are not those checks.json names")
    evaluated = {c["check_id"] for d in _counted(runs, plan) for c in d["check_runs"]}
    for check_id in sorted(evaluated & set(specs)):
        for control in sorted(set(specs[check_id].get("controls", {})) & set(ids)):
            if check_id not in next(c.checks for c in plan.controls if c.id == control):
                out.append(f"{PERIOD}: {check_id} was evaluated in the period but is left out of {control}")
    return out


def _counted(runs: list[dict[str, Any]], plan: Plan) -> list[dict[str, Any]]:
    """The bundle's runs the period counts: sealed entries of a counted status finished in it."""
    return [
        d
        for d in runs
        if d["identity"]["status"] in COUNTED and plan.start <= _at(d["identity"]["finished_at"]) < plan.end
    ]


def _facts(plan: Plan, docs: dict[str, Any]) -> Facts:
    period = _counted(docs[RUNS], plan)
    entries = {e["id"]: e["identity"] for e in docs[CHAIN]["spine"]}

    def sealed_before_end(run_id: Any) -> bool:
        identity = entries.get(run_id)
        return (
            identity is not None and identity["status"] in COUNTED and _at(identity["finished_at"]) < plan.end
        )

    evaluations = []
    for d in period:
        for c in d["check_runs"]:
            at = _at(c["evaluated_at"])
            if c["check_id"] in plan.checks and plan.start <= at < plan.end:
                columns = ("check_id", "scope", "evaluated_at", "outcome", *COUNTS, "result_set")
                outcome = sealed_outcome(d["identity"]["uid"], tuple(c[k] for k in columns), c["hash"])
                evaluations.append(Scoped(c["check_id"], c["scope"], Evaluation(at, outcome)))

    def collections(sources: set[str]) -> list[Collection]:
        return [
            Collection(o["source"], o["scope"], _at(o["collected_at"]), o["status"] == "ok")
            for d in period
            for o in d["observations"]
            if o["source"] in sources
        ]

    steps = [
        Step(t["nc_id"], t["id"], _at(t["at"]), t["from_state"], t["to_state"])
        for nc in docs[NCS]
        for t in nc["history"]
        if sealed_before_end(t["run_id"])
    ]
    vouches = []
    for a in docs[ATTESTATIONS]:
        rec = a["record"]
        if sealed_before_end(rec["run_id"]):
            doc = {
                "file": rec["filename"],
                "sha256": rec["attachment"],
                "by": rec["actor"],
                "at": rec["at"],
                "expires_at": rec["expires_at"],
            }
            expires = _at(rec["expires_at"]) if rec["expires_at"] is not None else None
            vouches.append(Vouch(rec["control_id"], _at(rec["at"]), expires, vouch_document(doc)))
    return Facts(
        entries=len(period),
        last_root=period[-1]["root"] if period else None,
        evaluations=evaluations,
        collections=collections,
        steps=steps,
        ncs=[nc_info(nc["sealed"]["document"]) for nc in docs[NCS]],
        vouches=vouches,
    )


def differences(declared: Any, derived: Any, path: str) -> Iterator[str]:
    """Where period.json says other than the bundle's files give, by path (checks and controls by id)."""
    if isinstance(declared, dict) and isinstance(derived, dict):
        for key in sorted(set(declared) | set(derived)):
            yield from differences(declared.get(key), derived.get(key), f"{path}: {key}")
    elif isinstance(declared, list) and isinstance(derived, list) and len(declared) == len(derived):
        for n, (a, b) in enumerate(zip(declared, derived, strict=True)):
            name = b.get("id") or b.get("scope") if isinstance(b, dict) else None
            yield from differences(a, b, f"{path} {name or n}")
    elif declared != derived or type(declared) is not type(derived):
        yield f"{path}: says {_short(declared)}, the bundle's own runs give {_short(derived)}"


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."
