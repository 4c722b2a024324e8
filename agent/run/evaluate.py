"""Running checks over stored evidence, fail-closed.

Before a check sees any data the evaluator decides, per scope, whether the evidence it needs
is there, successful and fresh. If not, the check does not run there: each resource it
judged last time (or the scope itself) gets an `error` result naming what is wrong.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError

from agent.audit.nonconformities import record_outcomes
from agent.config.settings import Settings
from agent.logs import get_logger
from agent.plugin.evidence import Evidence
from agent.plugin.model import Record, Result, Status
from agent.plugin.registry import CheckSpec, Registry
from agent.run.session import Cancelled
from agent.store import Store
from agent.store.observations import latest_observations, load_records
from agent.store.results import Verdict, add_check_runs, latest_check_runs, outcome_of, results_of
from agent.store.schema import Observation, Run, id_of

log = get_logger()

NC_ATTEMPTS = 3
# Verdicts recorded per transaction: a few statements for many checks, and a bound on the results
# held until they are stored.
RECORD_BATCH = 5000


@dataclass(frozen=True)
class Outcome:
    """A check's verdict in one scope as recorded. Its results stay in the store (`results_of`
    reads `result_set` back), not here: a large organisation's run judges hundreds of thousands of
    resources, and keeping them until the run ends doubled the memory judging needs."""

    check: CheckSpec
    scope: str
    status: Status
    counts: dict[str, int]  # results per status value, in the order the check first gave each
    result_set: str
    nc: str | None


def system_of(source: str) -> str:
    return source.split(".", 1)[0]


def related(check_scope: str, source_scope: str, same_system: bool) -> bool:
    """Scopes a check may join: itself, its ancestors and descendants; anything in another system."""
    if not same_system:
        return True
    return (
        check_scope == source_scope
        or source_scope.startswith(check_scope + ":")
        or check_scope.startswith(source_scope + ":")
    )


def active_checks(
    registry: Registry, settings: Settings, only: Iterable[str] | None = None
) -> list[CheckSpec]:
    """Checks whose every source has a collector in an enabled system and that are not disabled."""
    disabled = set(settings.checks.disabled)
    wanted = set(only) if only is not None else None
    out = []
    for spec in sorted(registry.checks.values(), key=lambda c: c.id):
        if spec.id in disabled or (wanted is not None and not wanted.intersection(spec.needs)):
            continue
        if all(registry.source_active(n, settings) for n in spec.needs):
            out.append(spec)
    return out


class Evaluator:
    """Judges the scopes `owns` accepts (this agent's leased targets); all of them by default.

    `judge_missing(source)` says whether a source with no evidence at all is this agent's to
    report (a shard reports only the sources it collected targets of).
    """

    def __init__(
        self,
        store: Store,
        settings: Settings,
        registry: Registry,
        run: Run,
        now: datetime,
        owns: Callable[[str], bool] = lambda _scope: True,
        cancel: threading.Event | None = None,
        judge_missing: Callable[[str], bool] = lambda _source: True,
    ) -> None:
        self.store = store
        self.settings = settings
        self.registry = registry
        self.run = run
        self.now = now
        self.owns = owns
        self.cancel = cancel
        self.judge_missing = judge_missing
        self._records: dict[tuple[int, ...], list[Record]] = {}  # by the ids of their observations
        self._shared: dict[Hashable, Any] = {}  # Evidence.memo's cache: one for every view judged here
        self._previous: dict[tuple[str, str], str] | None = None  # (check, scope): its last result set

    def _records_in(self, observations: Sequence[Observation]) -> list[Record]:
        """The records of these observations, one list per set of them: every view of the same
        evidence gets the same list, whose `Evidence.fingerprint` is then computed once."""
        key = tuple(id_of(o) for o in observations)
        if key not in self._records:
            if len(key) == 1:
                self._records[key] = load_records(self.store, observations[0])
            else:
                self._records[key] = [r for o in observations for r in self._records_in([o])]
        return self._records[key]

    def _release(self, observations: Iterable[Observation]) -> None:
        """Let go of records no later check reads: a source's listing can be hundreds of MB."""
        done = {id_of(o) for o in observations}
        for key in [k for k in self._records if done.intersection(k)]:
            del self._records[key]

    def _problems(self, source: str, observations: Sequence[Observation], scope: str) -> list[str]:
        if not observations:
            return [f"no evidence of {source} for {scope}"]
        return [p for obs in observations if (p := self._problem(source, obs))]

    def _problem(self, source: str, obs: Observation) -> str:
        """Why one observation cannot be used (failed, stale), or "" when it can."""
        if obs.status != "ok":
            return f"{source} at {obs.scope} could not be collected: {obs.error}"
        limit = self.settings.freshness_for(source, self.registry.collectors[source].freshness)
        age = self.now - obs.collected_at
        if age > limit:
            return (
                f"{source} at {obs.scope} is stale: collected {age.total_seconds() / 3600:.1f} h ago, "
                f"limit {limit.total_seconds() / 3600:.1f} h"
            )
        return ""

    def _previous_resources(self, check_id: str, scope: str) -> list[str]:
        """The resources the last sealed evaluation judged here, to report each as `error`.

        Every check's last evaluations are read once, at the first error: one query, not one per
        check and scope that errs (a region that could not be listed errs in dozens of checks)."""
        if self._previous is None:
            self._previous = {(c.check_id, c.scope): c.result_set for c in latest_check_runs(self.store)}
        result_set = self._previous.get((check_id, scope))
        return [row.resource_id for row in results_of(self.store, result_set)] if result_set else []

    def _errors(self, spec: CheckSpec, scope: str, reason: str) -> list[Result]:
        resources = [r for r in self._previous_resources(spec.id, scope) if r != scope] or [scope]
        return [Result.error(rid, reason) for rid in resources]

    def _judge(
        self, spec: CheckSpec, scope: str, sources: dict[str, list[Record]], gaps: tuple[str, ...] = ()
    ) -> list[Result]:
        params = self.settings.check_params(spec.id, spec.params)
        evidence = Evidence(
            scope=scope, now=self.now, sources=sources, params=params, shared=self._shared, gaps=gaps
        )
        try:
            results = list(spec.func(evidence))
        except Exception as exc:
            log.exception("check_crashed", check=spec.id, scope=scope)
            return self._errors(spec, scope, f"check {spec.id} raised {type(exc).__name__}: {exc}")
        seen: set[str] = set()
        for r in results:
            if not isinstance(r, Result) or r.resource_id in seen:
                what = "a non-Result value" if not isinstance(r, Result) else f"{r.resource_id!r} twice"
                return self._errors(spec, scope, f"check {spec.id} yielded {what}")
            seen.add(r.resource_id)
        return results

    def evaluate(self, checks: Sequence[CheckSpec]) -> list[Outcome]:
        needed = {n for c in checks for n in (*c.needs, *c.context)}
        by_source: dict[str, list[Observation]] = defaultdict(list)
        for obs in latest_observations(self.store, needed, self.run.id):
            by_source[obs.source].append(obs)
        index = {source: _ScopeIndex(observations) for source, observations in by_source.items()}
        last_use = {source: i for i, c in enumerate(checks) for source in (*c.needs, *c.context)}
        outcomes: list[Outcome] = []
        judged: list[tuple[CheckSpec, str, list[Result]]] = []
        held = 0  # results judged, not yet recorded
        for i, spec in enumerate(checks):
            if self.cancel is not None and self.cancel.is_set():
                raise Cancelled
            verdicts = self._evaluate_check(spec, index)
            judged += verdicts
            held += sum(len(results) for _, _, results in verdicts)
            self._release(o for s, last in last_use.items() if last == i for o in by_source.get(s, ()))
            if held >= RECORD_BATCH:
                outcomes += self._record(judged)
                judged, held = [], 0
        return outcomes + self._record(judged)

    def _evaluate_check(
        self, spec: CheckSpec, index: dict[str, _ScopeIndex]
    ) -> list[tuple[CheckSpec, str, list[Result]]]:
        """Judge one check in every scope this agent owns."""
        primary = index.get(spec.primary_source)
        # No evidence of the source anywhere: an `error` at the system itself, unless that is
        # another shard's to report (it owns the source's targets).
        missing = [system_of(spec.primary_source)] if self.judge_missing(spec.primary_source) else []
        scopes = primary.scopes() if primary else missing
        judged = [(spec, scope, self._results_in(spec, scope, index)) for scope in scopes if self.owns(scope)]
        log.info("check_evaluated", check=spec.id, scopes=len(judged))
        return judged

    def _record(self, judged: list[tuple[CheckSpec, str, list[Result]]]) -> list[Outcome]:
        """Checks' verdicts in one transaction, retried if another agent opened the same NC at
        the same moment (the unique (check, scope) constraint refused ours)."""
        if not judged:
            return []
        attempt = 1
        while True:
            try:
                with self.store.write() as s:
                    verdicts = [Verdict(spec.id, scope, results) for spec, scope, results in judged]
                    stored = add_check_runs(s, self.run, verdicts, self.now)
                    ncs = record_outcomes(s, judged, self.run, self.now)
                return [
                    Outcome(
                        spec,
                        scope,
                        outcome_of(results),
                        dict(Counter(r.status.value for r in results)),
                        cr.result_set,
                        nc.ref if nc is not None else None,
                    )
                    for (spec, scope, results), cr, nc in zip(judged, stored, ncs, strict=True)
                ]
            except IntegrityError:
                if attempt == NC_ATTEMPTS:
                    raise
                attempt += 1
                log.info("nc_conflict_retried", checks=len({spec.id for spec, _, _ in judged}))

    def _results_in(self, spec: CheckSpec, scope: str, index: dict[str, _ScopeIndex]) -> list[Result]:
        primary_system = system_of(spec.primary_source)
        empty = _ScopeIndex([])
        chosen = {
            need: index.get(need, empty).related(scope, system_of(need) == primary_system)
            for need in spec.needs
        }
        problems = [p for need, obs in chosen.items() for p in self._problems(need, obs, scope)]
        if problems:
            return self._errors(spec, scope, "; ".join(problems))
        sources = {need: self._records_in(obs) for need, obs in chosen.items()}
        gaps: list[str] = []
        for source in spec.context:
            if not self.registry.source_active(source, self.settings):
                sources[source] = []  # its system is not enabled here: nothing to tell, nothing missing
                continue
            observations = index.get(source, empty).related(scope, system_of(source) == primary_system)
            if not observations:
                gaps.append(f"no evidence of {source}")
            usable = []
            for obs in observations:
                if problem := self._problem(source, obs):
                    gaps.append(problem)
                else:
                    usable.append(obs)
            sources[source] = self._records_in(usable)
        return self._judge(spec, scope, sources, tuple(gaps))


class _ScopeIndex:
    """One source's observations by scope, for prefix lookups instead of a scan per scope."""

    def __init__(self, observations: list[Observation]) -> None:
        self._by_scope = {o.scope: o for o in observations}
        self._sorted = sorted(self._by_scope)

    def scopes(self) -> list[str]:
        return list(self._sorted)

    def related(self, scope: str, same_system: bool) -> list[Observation]:
        if not same_system:
            return [self._by_scope[s] for s in self._sorted]
        parts = scope.split(":")
        ancestors = [":".join(parts[:n]) for n in range(1, len(parts) + 1)]
        found = [self._by_scope[a] for a in ancestors if a in self._by_scope]
        lo = bisect_left(self._sorted, scope + ":")
        hi = bisect_left(self._sorted, scope + ";")  # ';' follows ':' in code-point order
        return found + [self._by_scope[s] for s in self._sorted[lo:hi]]
