"""OSCAL in every bundle (`oscal/`) and from `annexa export --format oscal`.

`oscal/assessment-results.json` holds one result for the bundle's period: an observation per check
and scope evaluation (agent/bundle/oscal_observations.py), a finding per applicable Annex A
control, and back-matter resources for every bundle file they link, with its SHA-256. Beside it,
the Annex A catalog and the profile of applicable controls (agent/bundle/oscal_catalog.py). The
files go through the bundle's writer, so the signed manifest covers them and `annexa verify` names
any edit.

A finding judges the period, as an auditor of operating effectiveness would: a control is
`satisfied` only when every evaluation of its checks in the period passed and each of its checks
was evaluated; a failure makes it `not-satisfied` (reason `fail`), an error or a check never
evaluated too (reason `other`: a missing evaluation never counts as passing). A control no check
covers is judged on its attestations (reason `other`): satisfied only when they were valid across
the whole period.
"""

from __future__ import annotations

import tempfile
import uuid
import zipfile
from collections import Counter, defaultdict
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from agent.audit.catalog import annex_a
from agent.bundle.oscal_catalog import (
    CATALOG,
    OSCAL_DIR,
    PROFILE,
    RESULTS,
    catalog_document,
    control_selection,
    dump,
    in_scope,
    line,
    markup,
    metadata,
    profile_document,
    props,
    uid,
)
from agent.bundle.oscal_observations import Evaluated, Linked, Observations, inventory, resources
from agent.bundle.selection import Selection
from agent.config.settings import Settings
from agent.errors import UsageError
from agent.logs import get_logger
from agent.plugin.registry import Registry
from agent.private_files import replace_file
from agent.run.evaluate import active_checks
from agent.store import Store
from agent.store.schema import Attestation

if TYPE_CHECKING:
    from trestle.oscal import common

log = get_logger()
DOCUMENTS = (CATALOG, PROFILE, RESULTS)
_COPY = 1 << 20


class _Sink(Protocol):
    def write(self, data: bytes) -> None: ...


class BundleWriter(Protocol):
    """What of export's writer this module uses: files written so far (path, sha256) and new ones."""

    @property
    def files(self) -> list[dict[str, Any]]: ...

    def write(self, path: str, data: bytes | str) -> None: ...

    def open(self, path: str) -> AbstractContextManager[_Sink]: ...


@dataclass(frozen=True)
class _Span:
    start: datetime
    end: datetime


def write_oscal(
    w: BundleWriter,
    store: Store,
    settings: Settings,
    registry: Registry,
    sel: Selection,
    *,
    start: date | None = None,
    end: date | None = None,
) -> None:
    """Write oscal/ into the bundle, after the files it links (evidence, results, checks, attachments).

    The observations, a year of evaluations, are spooled to a temporary file and spliced into the
    serialized document where a placeholder observation stands: every byte still comes from a
    validated model, and memory holds one observation at a time."""
    head = sel.runs[-1]
    modified = head.finished_at or head.started_at
    controls = in_scope(sel.controls, settings.controls.excluded)
    w.write(CATALOG, catalog_document(modified))
    w.write(PROFILE, profile_document(modified, controls, "catalog.json"))
    linked = Linked({f["path"]: f["sha256"] for f in w.files})
    observations = Observations(store, registry, sel, linked)
    with tempfile.TemporaryFile() as spool:
        count = _spool(observations.stream(), spool)
        placeholder = _placeholder(modified) if count else None
        doc = _assessment_results(
            settings, registry, sel, linked, observations.evaluated, controls, (start, end), placeholder
        )
        before, after = _split(dump(doc), placeholder)
        with w.open(RESULTS) as out:
            out.write(before)
            spool.seek(0)
            while chunk := spool.read(_COPY):
                out.write(chunk)
            out.write(after)
    log.info("oscal_written", observations=count, controls=len(controls), files=len(linked.files))


def _spool(chunks: Iterable[bytes], spool: IO[bytes]) -> int:
    count = 0
    for chunk in chunks:
        spool.write(b"," + chunk if count else chunk)
        count += 1
    return count


def _placeholder(modified: datetime) -> common.Observation:
    """Stands in the document for the spooled observations: a UUID nothing else carries."""
    from trestle.oscal import common

    return common.Observation(
        uuid=str(uuid.uuid4()), description="-", methods=[common.Methods.TEST], collected=modified
    )


def _split(document: bytes, placeholder: common.Observation | None) -> tuple[bytes, bytes]:
    """The document's bytes before and after the placeholder observation (if there is one)."""
    if placeholder is None:
        return document, b""
    marker = dump(placeholder)
    before, found, after = document.partition(marker)
    if not found or marker in after:
        raise AssertionError("the placeholder observation is not in the document exactly once")
    return before, after


def _assessment_results(
    settings: Settings,
    registry: Registry,
    sel: Selection,
    linked: Linked,
    evaluated: list[Evaluated],
    controls: list[str],
    period: tuple[date | None, date | None],
    placeholder: common.Observation | None,
) -> Any:
    """The document (wrapped, as OSCAL's JSON has it), with `placeholder` where the spooled
    observations go (if there are any)."""
    from trestle.oscal import assessment_results as ar
    from trestle.oscal import common

    first, head = sel.runs[0], sel.runs[-1]
    span = _Span(first.started_at, head.finished_at or head.started_at)
    checks_file = linked.file("checks.json")
    findings = _findings(settings, registry, sel, linked, evaluated, controls, span)
    items = inventory(linked)
    titles = {"checks.json": "The checks Annexa ran: controls, parameters and logic"}
    titles |= {f"attachments/{a.attachment}": a.filename for a in sel.attestations}
    back = resources(linked, titles)
    wanted = ", ".join(sel.controls) if sel.controls else "every applicable control"
    result = ar.Result(
        uuid=uid("result", head.root_hash, *period, *sel.controls),
        title=line(f"ISO/IEC 27001:2022 Annex A, runs {first.id} to {head.id}"),
        description=markup(
            f"Continuous evidence from {len(sel.runs)} sealed runs, {span.start.isoformat()} to "
            f"{span.end.isoformat()}, for {wanted}; chain head {head.root_hash}."
        ),
        start=span.start,
        end=span.end,
        props=props(
            [
                ("period-from", period[0]),
                ("period-to", period[1]),
                ("first-run", first.id),
                ("last-run", head.id),
                ("chain-head", head.root_hash),
                ("chain-anchor", first.prev_root_hash),
            ]
        ),
        local_definitions=ar.LocalDefinitions1(inventory_items=items) if items else None,
        reviewed_controls=control_selection(controls),
        observations=[placeholder] if placeholder else None,
        findings=findings or None,
    )
    document = ar.AssessmentResults(
        uuid=uid("assessment-results", head.root_hash, *period, *sel.controls),
        metadata=metadata(
            f"Annexa assessment results, runs {first.id} to {head.id}",
            span.end,
            "Written by Annexa into a signed evidence bundle. Links are relative to this document's "
            "place in the bundle (oscal/); back-matter gives each linked file's SHA-256, the one the "
            "bundle's signed manifest records. A finding judges the whole period: a control is "
            "satisfied only when every evaluation of its checks passed, and a check not evaluated "
            "never counts as passing.",
        ),
        import_ap=ar.ImportAp(
            href=f"#{checks_file}" if checks_file else "../checks.json",
            remarks="No OSCAL assessment plan was written: the checks Annexa ran (checks.json, with "
            "their controls, parameters and logic) are the plan.",
        ),
        results=[result],
        back_matter=common.BackMatter(resources=back) if back else None,
    )
    return ar.Model(assessment_results=document)


def _findings(
    settings: Settings,
    registry: Registry,
    sel: Selection,
    linked: Linked,
    evaluated: list[Evaluated],
    controls: list[str],
    span: _Span,
) -> list[common.Finding]:
    expected: dict[str, set[str]] = defaultdict(set)
    for spec in active_checks(registry, settings):
        if spec.id in sel.checks:
            for c in spec.controls:
                expected[c].add(spec.id)
    by_control: dict[str, list[Evaluated]] = defaultdict(list)
    for e in evaluated:
        for c in registry.checks[e.check_id].controls:
            by_control[c].append(e)
    ncs: dict[str, list[str]] = defaultdict(list)
    for v in sel.versions:
        for c in v.document["controls"]:
            ncs[c].append(f"NC-{v.nc_id:04d} {v.document['state']}")
    vouched: dict[str, list[Attestation]] = defaultdict(list)
    for a in sel.attestations:
        vouched[a.control_id].append(a)
    return [_finding(c, expected[c], by_control[c], ncs[c], vouched[c], linked, span) for c in controls]


def _finding(
    control_id: str,
    expected: set[str],
    evaluations: list[Evaluated],
    ncs: list[str],
    attested: list[Attestation],
    linked: Linked,
    span: _Span,
) -> common.Finding:
    from trestle.oscal import common

    control = annex_a()[control_id]
    outcomes = Counter(e.outcome for e in evaluations)
    never = sorted(expected - {e.check_id for e in evaluations})
    automated = bool(outcomes) and set(outcomes) != {"not_applicable"}
    if automated or never:
        state, reason, remarks = _judged(outcomes, never, len({e.check_id for e in evaluations}))
    else:
        state, reason, remarks = _attested(attested, span)
    files = [(a.filename, linked.file(f"attachments/{a.attachment}")) for a in attested]
    return common.Finding(
        uuid=uid("finding", control_id, span.start.isoformat(), span.end.isoformat()),
        title=line(f"{control_id} {control.title}"),
        description=markup(remarks),
        props=props(
            [
                ("assessment", "automated" if automated or never else "manual"),
                ("evaluations", len(evaluations)),
                *((f"{outcome}-evaluations", n) for outcome, n in sorted(outcomes.items())),
                *(("nonconformity", nc) for nc in ncs),
            ]
        ),
        links=[
            common.Link(href=f"#{resource}", rel="reference", text=line(name))
            for name, resource in files
            if resource
        ]
        or None,
        target=common.FindingTarget(
            type=common.FindingTargetTypeValidValues.objective_id,
            target_id=control_id,
            title=line(control.title),
            status=common.ObjectiveStatus(
                state=common.ObjectiveStatusStateValidValues(state), reason=reason, remarks=markup(remarks)
            ),
        ),
        related_observations=[common.RelatedObservation(observation_uuid=e.uuid) for e in evaluations]
        or None,
    )


def _judged(outcomes: Counter[str], never: list[str], checks: int) -> tuple[str, str, str]:
    """A control with checks: satisfied only if every evaluation of the period passed."""
    said = (
        f"{sum(outcomes.values())} evaluations of {checks} check(s) in the period: {outcomes['pass']} "
        f"passed, {outcomes['fail']} failed, {outcomes['error']} in error."
    )
    if never:
        said += f" Never evaluated in the period: {', '.join(never)}."
    if outcomes["fail"]:
        return "not-satisfied", "fail", said
    if outcomes["error"] or never:
        return "not-satisfied", "other", said
    return "satisfied", "pass", said


def _attested(rows: list[Attestation], span: _Span) -> tuple[str, str, str]:
    """A control no check covers: satisfied only if attestations were valid across the period."""
    if not rows:
        return "not-satisfied", "other", "No check covers this control and nothing attests it."
    vouched = "; ".join(
        f"{a.filename} by {a.actor} from {a.at.isoformat()} "
        f"until {a.expires_at.isoformat() if a.expires_at else 'withdrawn'}"
        for a in rows
    )
    if _covered(rows, span):
        return "satisfied", "other", f"No check covers this control; attested across the period: {vouched}."
    return (
        "not-satisfied",
        "other",
        f"No check covers this control; attestations leave part of the period uncovered: {vouched}.",
    )


def _covered(rows: list[Attestation], span: _Span) -> bool:
    """Whether the attestations' validity, joined, covers the whole span."""
    reached = span.start
    for a in sorted(rows, key=lambda a: a.at):
        if a.at > reached:
            return False
        if a.expires_at is None:
            return True
        reached = max(reached, a.expires_at)
        if reached >= span.end:
            return True
    return reached >= span.end


def oscal_directory(raw: str) -> Path:
    """`export --format oscal --out DIR`: the bundle goes to DIR/bundle.zip, its OSCAL to DIR/oscal/."""
    directory = Path(raw)
    if raw.endswith(".zip") or (directory.exists() and not directory.is_dir()):
        raise UsageError(f"--out {raw}: with --format oscal, name a directory")
    return directory / "bundle.zip"


def extract_oscal(bundle: Path) -> list[str]:
    """Copy the bundle's OSCAL documents beside it (byte for byte: the manifest's hashes hold),
    so that unzipping the bundle there lands its oscal/ on them and their links resolve."""
    target = bundle.parent / OSCAL_DIR
    target.mkdir(exist_ok=True)
    written = []
    with zipfile.ZipFile(bundle) as zf:
        for name in DOCUMENTS:
            path = bundle.parent / name
            replace_file(path, zf.read(name))
            written.append(str(path))
    return written
