"""The `samples/` part of a bundle: drawn at export, re-derived by `annexa verify` from the bundle alone.

Each sample is drawn with the bundle's chain head as its seed, over exactly the evidence the bundle
holds (its period's counted runs and their listings, the NC register as sealed), so the verifier
rebuilds the same period view from the bundle's own files, derives the population again with the
size rule the sample records, re-ranks it, and names the sample when anything differs.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any, Protocol

from agent.audit.samples import (
    AGENT_POPULATIONS,
    CHAIN_HEAD,
    RecordRows,
    Seen,
    build_period,
    counted_listings,
    find_population,
    period_days,
    selected_period,
    size_rule,
)
from agent.audit.sampling import EvidenceUnreadable, RuleError, SizeRule, same, sample_document
from agent.bundle.layout import MANIFEST, NCS, RUNS, evidence_path
from agent.bundle.selection import Selection
from agent.bundle.zipsafe import BoundedReader, read_bounded
from agent.canonical import content_hash
from agent.config.settings import Settings
from agent.errors import AnnexaError, ConfigError
from agent.plugin.registry import PopulationSpec, Registry
from agent.proof import Report
from agent.store import Store
from agent.store.hashing import TreeHasher

PREFIX = "samples/"
MAX_SAMPLE = 64 << 20  # parsed whole
MAX_MANIFEST = 64 << 20


class _JsonWriter(Protocol):
    def json(self, path: str, value: Any) -> None: ...


def sample_path(population: str) -> str:
    """`samples/leavers.json`, `samples/resources.aws.iam.users.json` (no `:` in file names)."""
    return f"{PREFIX}{population.replace(':', '.', 1)}.json"


def _bundled(settings: Settings, registry: Registry, available: set[str]) -> list[PopulationSpec]:
    """The configured populations, else every declared one whose needs the bundle's evidence holds."""
    if settings.samples.bundle is not None:
        try:
            return [find_population(registry, n) for n in settings.samples.bundle]
        except AnnexaError as exc:
            raise ConfigError(f"[samples] bundle: {exc}") from None
    declared = [*AGENT_POPULATIONS.values(), *registry.populations.values()]
    return [s for s in declared if not s.family and set(s.needs) <= available]


def write_samples(
    w: _JsonWriter,
    store: Store,
    settings: Settings,
    registry: Registry,
    sel: Selection,
    start: date | None,
    end: date | None,
) -> list[str]:
    """Draw each population's sample over the bundle's period; returns the files written. A
    declared population whose needs were not listed in the period is left out; a configured one
    gets a sample saying so."""
    first, last = period_days(start, end, (r.finished_at for r in sel.runs))
    specs = _bundled(settings, registry, sel.sources)
    wanted = {s for spec in specs for s in spec.sources} & sel.sources
    period = selected_period(store, sel, first, last, wanted)
    rule, head = size_rule(settings), sel.runs[-1].root_hash or ""
    written = []
    for spec in specs:
        if settings.samples.bundle is None and not all(period.listings.get(s) for s in spec.needs):
            continue
        w.json(sample_path(spec.name), sample_document(spec, period, rule, head, CHAIN_HEAD))
        written.append(sample_path(spec.name))
    return written


# --- verify ----------------------------------------------------------------------------------------


class _Unusable(EvidenceUnreadable):
    """A listing the period holds whose evidence file is missing, or is not what its sealed
    observation committed to (a context source's listing is not otherwise compared with it)."""


def bundle_rows(zf: zipfile.ZipFile, sizes: dict[str, int]) -> RecordRows:
    def rows(s: Seen) -> Iterable[tuple[str, str, dict[str, Any]]]:
        path = evidence_path(s.source, s.tree)
        if path not in sizes:
            raise _Unusable(f"evidence {path} is missing")
        reader = BoundedReader(zf, path, sizes[path])
        tree, out = TreeHasher(), []
        try:
            for line in reader.lines():
                doc = json.loads(line)
                rid, digest, data = doc["resource_id"], doc["hash"], doc["data"]
                if content_hash(data) != digest:
                    raise _Unusable(f"{path}: record {rid!r} does not match its hash")
                tree.add(rid, digest)
                out.append((rid, digest, data))
        finally:
            reader.close()
        if tree.hexdigest() != s.tree:
            raise _Unusable(f"{path} does not hold the listing its observation sealed")
        return out

    return rows


def _what_differs(doc: dict[str, Any], derived: dict[str, Any]) -> str:
    if "error" in derived or "error" in doc:
        why = derived.get("error") or "the bundle's evidence derives it"
        return f"does not match the population re-derived from the bundle ({why})"
    if (doc.get("digest"), doc.get("members")) != (derived["digest"], derived["members"]):
        return "its population differs from the one the bundle's evidence gives (members added or removed)"
    if [m.get("id") for m in doc.get("sample", []) if isinstance(m, dict)] != [
        m["id"] for m in derived["sample"]
    ]:
        return "its members drawn are not those the seed's ranking and the size rule give"
    if doc.get("sample") != derived["sample"]:
        return "the evidence of its members differs from the bundle's evidence (edited)"
    return "differs from the sample re-derived from the bundle's evidence"


def check_samples(
    zf: zipfile.ZipFile, sizes: dict[str, int], docs: dict[str, Any], head: str, r: Report
) -> None:
    """Re-derive every sample the bundle holds from its own evidence, naming each that differs."""
    names = sorted(n for n in sizes if n.startswith(PREFIX))
    if not names:
        return
    from agent.plugin.loader import load_plugins

    try:
        registry = load_plugins(Registry(), systems=())
    except AnnexaError as exc:
        r.problems.append(f"samples: cannot re-derive them: {exc}")
        return
    drawn: dict[str, tuple[dict[str, Any], PopulationSpec, SizeRule]] = {}
    for name in names:
        found = _parsed(zf, name, sizes[name], registry, head, r)
        if found is not None:
            drawn[name] = found
    if not drawn:
        return
    period_doc = json.loads(read_bounded(zf, MANIFEST, MAX_MANIFEST)).get("period") or {}
    runs, checks = docs[RUNS], docs["checks.json"]
    available = {n for c in checks for n in (*c["needs"], *(c.get("context") or []))}
    wanted = {s for _, spec, _ in drawn.values() for s in spec.sources} & available
    try:
        first, last = period_days(
            _day(period_doc.get("from")),
            _day(period_doc.get("to")),
            (_finished(d["identity"].get("finished_at")) for d in runs),
        )
        listed = counted_listings(((d["identity"].get("status"), d["observations"]) for d in runs), wanted)
        period = build_period(first, last, listed, bundle_rows(zf, sizes), docs[NCS])
    except (KeyError, TypeError, ValueError, AnnexaError) as exc:
        r.problems.append(f"samples: cannot re-derive them: malformed runs ({exc})")
        return
    for name, (doc, spec, rule) in drawn.items():
        try:  # the evidence is read as each population walks it
            derived = sample_document(spec, period, rule, head, CHAIN_HEAD)
        except _Unusable as exc:
            r.problems.append(f"{name}: cannot be re-derived: {exc}")
            continue
        except (KeyError, TypeError, ValueError, RecursionError) as exc:
            r.problems.append(f"{name}: cannot be re-derived: malformed evidence ({exc})")
            continue
        if not same(doc, derived):
            r.problems.append(f"{name}: {_what_differs(doc, derived)}")


def _parsed(
    zf: zipfile.ZipFile, name: str, size: int, registry: Registry, head: str, r: Report
) -> tuple[dict[str, Any], PopulationSpec, SizeRule] | None:
    """A sample document, the population it names and the rule it records; or a problem named."""
    if size > MAX_SAMPLE:
        r.problems.append(f"{name} is {size} bytes, more than the {MAX_SAMPLE} this verifier parses")
        return None
    try:
        doc = json.loads(read_bounded(zf, name, size))
    except (ValueError, RecursionError) as exc:
        r.problems.append(f"{name}: unreadable ({exc})")
        return None
    population = doc.get("population") if isinstance(doc, dict) else None
    if not isinstance(population, str) or sample_path(population) != name:
        r.problems.append(f"{name}: does not name the population its file is named for")
        return None
    if doc.get("seed") != head:
        r.problems.append(f"{name}: its seed is not the bundle's chain head {head}: the sample was steerable")
        return None
    try:
        spec = find_population(registry, population)
        rule = SizeRule.of(doc.get("size_rule"))
    except AnnexaError:
        r.problems.append(f"{name}: population {population!r} is unknown to this verifier: not re-derived")
        return None
    except RuleError as exc:
        r.problems.append(f"{name}: {exc}")
        return None
    if rule.override is not None:
        r.problems.append(f"{name}: a bundle's sample follows a size rule, not an override")
        return None
    return doc, spec, rule


def _day(value: Any) -> date | None:
    return date.fromisoformat(value) if isinstance(value, str) else None


def _finished(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None
