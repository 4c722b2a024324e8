"""OSCAL observations: one per evaluation of a check in a scope during the bundle's period.

Each names the resources it judged as subjects (their verdicts in props and remarks), when it was
made, and the bundle files it rests on: its result set and the listings of every source the check
reads that the evaluation could draw on (the newest of each source and related scope collected up
to its run, as the evaluator picks them). Every linked file becomes a back-matter resource with the
SHA-256 the manifest records. Observations are yielded one at a time, serialized, so a year of
evaluations never sits in memory as models.
"""

from __future__ import annotations

from collections import OrderedDict, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlmodel import col

from agent.bundle.layout import evidence_path, results_path
from agent.bundle.oscal_catalog import dump, line, markup, props, uid
from agent.bundle.selection import Selection
from agent.plugin.registry import CheckSpec, Registry
from agent.run.evaluate import _ScopeIndex, system_of
from agent.store import Store
from agent.store.schema import CheckRun, Observation, ResultRow

if TYPE_CHECKING:
    from trestle.oscal import common

SUBJECTS = 200  # resources named per observation, failing and erroring first; all are in its result set
_CACHED_SETS = 256
_CACHED_VERDICTS = 100_000
MEDIA_TYPES = {".ndjson": "application/x-ndjson", ".json": "application/json"}


@dataclass(frozen=True)
class Evaluated:
    """What a finding needs of an observation, once the observation itself is written."""

    uuid: str
    check_id: str
    outcome: str


@dataclass
class Linked:
    """Bundle files the documents link to (path -> back-matter resource UUID), and the resources
    observations named (scope and resource id -> inventory item UUID)."""

    hashes: dict[str, str]
    files: dict[str, str] = field(default_factory=dict)
    subjects: dict[tuple[str, str], str] = field(default_factory=dict)

    def file(self, path: str) -> str | None:
        """The resource UUID of a bundle file, or None when the bundle does not hold it."""
        if path not in self.hashes:
            return None
        return self.files.setdefault(path, uid("file", path, self.hashes[path]))

    def subject(self, scope: str, resource_id: str) -> str:
        return self.subjects.setdefault((scope, resource_id), uid("resource", scope, resource_id))


class _Latest:
    """The newest listing of each source and scope up to the run being read, found for a check's
    scope the way the evaluator finds them (its own scope index)."""

    def __init__(self) -> None:
        self._by_source: dict[str, dict[str, Observation]] = defaultdict(dict)
        self._indexes: dict[str, _ScopeIndex] = {}

    def add(self, o: Observation) -> None:
        known = self._by_source[o.source].get(o.scope)
        if known is None or o.collected_at >= known.collected_at:
            self._by_source[o.source][o.scope] = o
            self._indexes.pop(o.source, None)

    def related(self, source: str, scope: str, same_system: bool) -> list[Observation]:
        index = self._indexes.get(source)
        if index is None:
            index = self._indexes[source] = _ScopeIndex(list(self._by_source[source].values()))
        return sorted(index.related(scope, same_system), key=lambda o: o.scope)


def href(path: str) -> str:
    """A bundle file as seen from the OSCAL documents, which sit in the bundle's oscal/."""
    return f"../{path}"


def media_type(path: str) -> str:
    return next((t for ext, t in MEDIA_TYPES.items() if path.endswith(ext)), "application/octet-stream")


def _by_run(rows: list[Any]) -> dict[int, list[Any]]:
    out: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        out[row.run_id].append(row)
    return out


class Observations:
    """Streams the observations of a selection, recording what the rest of the document links."""

    def __init__(self, store: Store, registry: Registry, sel: Selection, linked: Linked) -> None:
        self.store, self.registry, self.sel, self.linked = store, registry, sel, linked
        self.evaluated: list[Evaluated] = []
        self._subjects: OrderedDict[tuple[str, str], tuple[list[common.SubjectReference], int]]
        self._subjects = OrderedDict()
        self._verdicts: dict[tuple[str, ...], common.SubjectReference] = {}

    def stream(self) -> Iterator[bytes]:
        """Each observation's JSON, in chain order."""
        check_runs = [c for c in self.sel.rows[CheckRun] if c.check_id in self.sel.checks]
        newest = {(c.check_id, c.scope): c.id for c in check_runs}  # rows come in id order
        listings = _by_run(self.sel.rows[Observation])
        evaluations = _by_run(check_runs)
        latest = _Latest()
        for run in self.sel.runs:
            for o in listings.get(run.id or 0, []):
                latest.add(o)
            for cr in evaluations.get(run.id or 0, []):
                spec = self.registry.checks[cr.check_id]
                historic = newest[(cr.check_id, cr.scope)] != cr.id
                yield dump(self._observation(cr, spec, latest, historic))

    def _observation(
        self, cr: CheckRun, spec: CheckSpec, latest: _Latest, historic: bool
    ) -> common.Observation:
        from trestle.oscal import common

        subjects, total = self._subjects_of(cr)
        uuid = uid("observation", cr.hash)
        self.evaluated.append(Evaluated(uuid, cr.check_id, cr.outcome))
        kinds = common.ObservationTypeValidValues
        types = [kinds.finding if cr.outcome in ("fail", "error") else kinds.control_objective]
        more = total - len(subjects)
        return common.Observation(
            uuid=uuid,
            title=line(f"{cr.check_id} in {cr.scope}: {cr.outcome}"),
            description=markup(
                f"{spec.title}, evaluated in {cr.scope}: {cr.passed} passed, {cr.failed} failed, "
                f"{cr.errored} in error, {cr.not_applicable} not applicable."
            ),
            props=props(
                [
                    ("check-id", cr.check_id),
                    ("scope", cr.scope),
                    ("outcome", cr.outcome),
                    ("assessment", "automated"),
                    ("run", cr.run_id),
                    ("check-run-hash", cr.hash),
                    ("result-set", cr.result_set),
                    ("resources", total),
                    *(("control", c) for c in sorted(spec.controls)),
                ]
            ),
            methods=[common.Methods.TEST],
            types=[*types, kinds.historic] if historic else types,
            subjects=subjects or None,
            relevant_evidence=[self._results(cr), *self._listings(cr, spec, latest)],
            collected=cr.evaluated_at,
            remarks=markup(f"{more} more resources are in {results_path(cr.result_set)}.") if more else None,
        )

    def _results(self, cr: CheckRun) -> common.RelevantEvidence:
        path = results_path(cr.result_set)
        return self._evidence(
            path, f"The verdicts of {cr.check_id} in {cr.scope}, one line per resource.", [("path", path)]
        )

    def _listings(self, cr: CheckRun, spec: CheckSpec, latest: _Latest) -> Iterator[common.RelevantEvidence]:
        """The listings the evaluation could draw on; a source it needs and had none of is said."""
        from trestle.oscal import common

        primary = system_of(spec.primary_source)
        for source in (*spec.needs, *spec.context):
            found = latest.related(source, cr.scope, system_of(source) == primary)
            if not found and source in spec.needs:  # context informs and never decides: no gap
                yield common.RelevantEvidence(
                    description=markup(
                        f"No listing of {source} for {cr.scope} was collected in the bundle's period "
                        "before this evaluation."
                    ),
                    props=props([("source", source)]),
                )
            for o in found:
                yield self._listing(o)

    def _listing(self, o: Observation) -> common.RelevantEvidence:
        when = o.collected_at.isoformat()
        if o.status == "ok":
            what = f"{o.source} in {o.scope}: {o.record_count} records, collected at {when}."
        else:
            what = f"{o.source} in {o.scope} could not be collected at {when}: {o.error}"
        path = evidence_path(o.source, o.tree_hash) if o.tree_hash else None
        return self._evidence(
            path,
            what,
            [
                ("source", o.source),
                ("scope", o.scope),
                ("status", o.status),
                ("collected-at", when),
                ("records", o.record_count),
                ("observation-hash", o.hash),
                ("path", path),
            ],
        )

    def _evidence(
        self, path: str | None, what: str, pairs: list[tuple[str, object]]
    ) -> common.RelevantEvidence:
        from trestle.oscal import common

        resource = self.linked.file(path) if path else None
        return common.RelevantEvidence(
            href=href(path) if path and resource else None,
            description=markup(what),
            props=props(pairs),
            links=[common.Link(href=f"#{resource}", rel="reference")] if resource else None,
        )

    def _subjects_of(self, cr: CheckRun) -> tuple[list[common.SubjectReference], int]:
        """The resources of a result set in a scope (cached: consecutive runs mostly share sets)."""
        key = (cr.result_set, cr.scope)
        if key in self._subjects:
            self._subjects.move_to_end(key)
            return self._subjects[key]
        subjects = [self._subject(cr.scope, *row) for row in self._rows(cr.result_set)]
        total = cr.passed + cr.failed + cr.errored + cr.not_applicable
        self._subjects[key] = (subjects, max(total, len(subjects)))
        if len(self._subjects) > _CACHED_SETS:
            self._subjects.popitem(last=False)
        return self._subjects[key]

    def _rows(self, set_hash: str) -> list[tuple[str, str, str, list[str]]]:
        """Up to SUBJECTS rows of a set (resource, status, reason, evidence): failures and errors
        first, then the rest, by resource id."""
        rows: list[tuple[str, str, str, list[str]]] = []
        with self.store.read() as s:
            for statuses in (("fail", "error"), ("pass", "not_applicable")):
                found = s.execute(
                    select(
                        col(ResultRow.resource_id),
                        col(ResultRow.status),
                        col(ResultRow.reason),
                        col(ResultRow.evidence),
                    )
                    .where(col(ResultRow.set_hash) == set_hash, col(ResultRow.status).in_(statuses))
                    .order_by(col(ResultRow.resource_id))
                    .limit(SUBJECTS - len(rows))
                )
                rows += [(rid, status, reason, evidence) for rid, status, reason, evidence in found]
                if len(rows) >= SUBJECTS:
                    break
        return rows

    def _subject(
        self, scope: str, resource_id: str, status: str, reason: str, evidence: list[str]
    ) -> common.SubjectReference:
        """A resource's verdict as a subject, made once: a set that changed mostly repeats the
        verdicts of the one before it."""
        from trestle.oscal import common

        key = (scope, resource_id, status, reason, *evidence)
        if (known := self._verdicts.get(key)) is not None:
            return known
        if len(self._verdicts) >= _CACHED_VERDICTS:
            self._verdicts.clear()
        made = self._verdicts[key] = common.SubjectReference(
            subject_uuid=self.linked.subject(scope, resource_id),
            type=common.SubjectReferenceValidValues.inventory_item,
            title=line(resource_id),
            props=props([("status", status), *(("evidence", h) for h in evidence)]),
            # A pass's reason is the check's wording of the failure it did not find: not shown.
            remarks=markup(reason) if reason and status != "pass" else None,
        )
        return made


def inventory(linked: Linked) -> list[common.InventoryItem]:
    """The resources observations named, as the result's inventory items."""
    from trestle.oscal import common

    return [
        common.InventoryItem(
            uuid=item,
            description=markup(resource_id) or "(an empty resource id)",
            props=props([("resource-id", resource_id), ("scope", scope)]),
        )
        for (scope, resource_id), item in sorted(linked.subjects.items())
    ]


def resources(linked: Linked, titles: dict[str, str]) -> list[common.Resource]:
    """Back-matter: each linked bundle file with its SHA-256, the one the signed manifest records."""
    from trestle.oscal import common

    return [
        common.Resource(
            uuid=resource,
            title=line(titles.get(path, path)),
            props=props([("path", path)]),
            rlinks=[
                common.Rlink(
                    href=href(path),
                    media_type=media_type(path),
                    hashes=[common.Hash(algorithm="SHA-256", value=linked.hashes[path])],
                )
            ],
        )
        for path, resource in sorted(linked.files.items())
    ]
