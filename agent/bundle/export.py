"""`annexa export`: a signed evidence bundle an auditor can verify offline.

The zip holds the chain of sealed runs covering the period (each with its observations and check
runs, enough to recompute every root hash), the evidence itself as one NDJSON file per distinct
listing, the result sets, the checks' metadata and logic, the NC register with its history, the
SoA, attestations, a browsable index.html, and a manifest of every file's SHA-256 signed with the
agent's Ed25519 key. Evidence is streamed from the database, so memory stays flat.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select

from agent import __version__
from agent.attest import attestation_document
from agent.bundle.report import render_index
from agent.config import Settings
from agent.controls import control_statuses
from agent.errors import UsageError
from agent.nonconformity import history, list_ncs, nc_document
from agent.registry import Registry
from agent.signing import fingerprint, load_private_key, public_pem
from agent.soa import render_csv, soa_rows
from agent.store import Store
from agent.store.hashing import GENESIS
from agent.store.schema import (
    Attachment,
    Attestation,
    Blob,
    CheckRun,
    Observation,
    ResultRow,
    Run,
    TreeEntry,
)
from agent.store.types import utcnow

FORMAT = "annexa-bundle/1"
MANIFEST = "manifest.json"
SIGNATURE = "manifest.sig"
PUBLIC_KEY = "public_key.pem"
CHUNK = 5000


@dataclass
class _Writer:
    """Streams files into the zip while hashing them for the manifest."""

    zf: zipfile.ZipFile
    files: list[dict[str, Any]] = field(default_factory=list)

    def open(self, path: str) -> _Entry:
        return _Entry(self, path, self.zf.open(path, "w", force_zip64=True))

    def write(self, path: str, data: bytes | str) -> None:
        with self.open(path) as fh:
            fh.write(data.encode() if isinstance(data, str) else data)

    def json(self, path: str, value: Any) -> None:
        self.write(path, json.dumps(value, indent=1, ensure_ascii=False, default=str))


class _Entry:
    def __init__(self, writer: _Writer, path: str, raw: IO[bytes]) -> None:
        self.writer, self.path, self.raw = writer, path, raw
        self.sha, self.size = hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.sha.update(data)
        self.size += len(data)
        self.raw.write(data)

    def __enter__(self) -> _Entry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.raw.close()
        self.writer.files.append({"path": self.path, "sha256": self.sha.hexdigest(), "size": self.size})


def _day_start(d: date) -> datetime:
    return datetime.combine(d, time.min, tzinfo=UTC)


def chain_segment(store: Store, start: datetime, end: datetime) -> list[Run]:
    """The sealed runs finished in [start, end), in chain order, contiguous from the first to the last."""
    with store.read() as s:
        sealed = list(s.execute(select(Run).where(Run.root_hash.is_not(None))).scalars())  # type: ignore[union-attr]
    by_prev = {r.prev_root_hash: r for r in sealed}
    ordered: list[Run] = []
    link: str | None = GENESIS
    while link in by_prev:
        run = by_prev[link]
        ordered.append(run)
        link = run.root_hash
    inside = [i for i, r in enumerate(ordered) if r.finished_at and start <= r.finished_at < end]
    return ordered[inside[0] : inside[-1] + 1] if inside else []


def _obs_doc(o: Observation) -> dict[str, Any]:
    return {
        "source": o.source,
        "scope": o.scope,
        "status": o.status,
        "error": o.error,
        "tree_hash": o.tree_hash,
        "record_count": o.record_count,
        "started_at": o.started_at.isoformat(),
        "collected_at": o.collected_at.isoformat(),
        "agent_version": o.agent_version,
        "hash": o.hash,
    }


def _run_doc(run: Run, observations: list[Observation], check_runs: list[CheckRun]) -> dict[str, Any]:
    return {
        "id": run.id,
        "uid": run.uid,
        "kind": run.kind,
        "status": run.status,
        "started_at": run.started_at.isoformat(),
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        "error": run.error,
        "prev_root_hash": run.prev_root_hash,
        "root_hash": run.root_hash,
        "observations": [_obs_doc(o) for o in observations],
        "check_runs": [
            {
                "check_id": c.check_id,
                "scope": c.scope,
                "evaluated_at": c.evaluated_at.isoformat(),
                "outcome": c.outcome,
                "result_set": c.result_set,
                "hash": c.hash,
            }
            for c in check_runs
        ],
    }


def _json_string(text: str) -> str:
    """json.dumps for a string, skipping the encoder for the common id that needs no escaping."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def _tree_lines(store: Store, tree: str) -> Iterator[bytes]:
    """The listing as NDJSON, a chunk of lines at a time; `data` is the stored canonical JSON, untouched."""
    with store.read() as s:
        rows = s.execute(
            select(TreeEntry.resource_id, Blob.hash, Blob.data)
            .join(Blob, Blob.hash == TreeEntry.blob_hash)
            .where(TreeEntry.tree_hash == tree)
            .order_by(TreeEntry.resource_id)
            .execution_options(yield_per=CHUNK)
        )
        for part in rows.partitions():
            yield "".join(
                f'{{"resource_id":{_json_string(rid)},"hash":"{digest}","data":{data}}}\n'
                for rid, digest, data in part
            ).encode()


def _check_doc(spec: Any) -> dict[str, Any]:
    try:
        logic = inspect.getsource(spec.func)
    except (OSError, TypeError):
        logic = ""
    return {
        "id": spec.id,
        "title": spec.title,
        "severity": spec.severity.value,
        "controls": dict(spec.controls),
        "needs": list(spec.needs),
        "rationale": spec.rationale,
        "remediation": spec.remediation,
        "params": dict(spec.params),
        "summary": inspect.getdoc(spec.func) or "",
        "logic": logic,
        "module": spec.func.__module__,
    }


@dataclass
class _Selection:
    """What goes in: the runs of the period and, when controls are named, only their checks' data."""

    runs: list[Run]
    observations: list[Observation]
    check_runs: list[CheckRun]
    checks: list[str]
    sources: set[str]
    controls: list[str]

    def of_run(self, run: Run) -> tuple[list[Observation], list[CheckRun]]:
        return [o for o in self.observations if o.run_id == run.id], [
            c for c in self.check_runs if c.run_id == run.id
        ]


def _select(
    store: Store, registry: Registry, start: date | None, end: date | None, controls: list[str]
) -> _Selection:
    lo = _day_start(start) if start else datetime.min.replace(tzinfo=UTC)
    hi = _day_start(end) + timedelta(days=1) if end else utcnow() + timedelta(seconds=1)
    runs = chain_segment(store, lo, hi)
    if not runs:
        raise UsageError("no sealed run in that period: collect first, or widen --from/--to")
    checks = sorted(c.id for c in registry.checks.values() if not controls or set(controls) & set(c.controls))
    run_ids = [r.id for r in runs]
    with store.read() as s:
        observations = list(s.execute(select(Observation).where(Observation.run_id.in_(run_ids))).scalars())  # type: ignore[attr-defined]
        check_runs = list(s.execute(select(CheckRun).where(CheckRun.run_id.in_(run_ids))).scalars())  # type: ignore[attr-defined]
    return _Selection(
        runs=runs,
        observations=observations,
        check_runs=check_runs,
        checks=checks,
        sources={n for cid in checks for n in registry.checks[cid].needs},
        controls=controls,
    )


def _write_evidence(w: _Writer, store: Store, sel: _Selection) -> dict[tuple[str, str], str]:
    trees: dict[tuple[str, str], str] = {}
    for o in sel.observations:
        if o.tree_hash and o.source in sel.sources and (o.source, o.tree_hash) not in trees:
            path = f"evidence/{o.source}/{o.tree_hash}.ndjson"
            trees[(o.source, o.tree_hash)] = path
            with w.open(path) as fh:
                for line in _tree_lines(store, o.tree_hash):
                    fh.write(line)
    return trees


def _write_results(w: _Writer, store: Store, sel: _Selection) -> None:
    with store.read() as s:
        for set_hash in sorted({c.result_set for c in sel.check_runs if c.check_id in sel.checks}):
            rows = s.execute(
                select(ResultRow).where(ResultRow.set_hash == set_hash).order_by(ResultRow.resource_id)
            ).scalars()
            w.json(
                f"results/{set_hash}.json",
                [
                    {
                        "resource_id": r.resource_id,
                        "status": r.status,
                        "reason": r.reason,
                        "evidence": r.evidence,
                    }
                    for r in rows
                ],
            )


def _write_attestations(w: _Writer, store: Store, controls: list[str]) -> list[dict[str, Any]]:
    docs = []
    with store.read() as s:
        for a in s.execute(select(Attestation).order_by(Attestation.id)).scalars():  # type: ignore[arg-type]
            if controls and a.control_id not in controls:
                continue
            path = f"attachments/{a.attachment}"
            if path not in {f["path"] for f in w.files}:
                w.write(path, s.get(Attachment, a.attachment).content)  # type: ignore[union-attr]
            docs.append({**attestation_document(a), "path": path})
    w.json("attestations.json", docs)
    return docs


def _write_registers(
    w: _Writer, store: Store, settings: Settings, registry: Registry, sel: _Selection
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Checks with their logic, control status, the NC register with history, and the SoA."""
    checks = [_check_doc(registry.checks[cid]) for cid in sel.checks]
    w.json("checks.json", checks)
    statuses = [c.document() for c in control_statuses(store, settings, registry)]
    with store.read() as s:
        ncs = [{**nc_document(nc), "history": history(s, nc)} for nc in list_ncs(s)]
    if sel.controls:
        statuses = [c for c in statuses if c["id"] in sel.controls]
        ncs = [nc for nc in ncs if set(sel.controls) & set(nc["controls"])]
    w.json("controls.json", statuses)
    w.json("nonconformities.json", ncs)
    soa = soa_rows(store, settings, registry, utcnow())
    w.json("soa.json", soa)
    w.write("soa.csv", render_csv(soa))
    return checks, statuses, ncs


def export_bundle(
    store: Store,
    settings: Settings,
    registry: Registry,
    out: Path,
    *,
    start: date | None = None,
    end: date | None = None,
    controls: list[str] | None = None,
) -> dict[str, Any]:
    """Write the bundle (atomically: a `.partial` file renamed at the end); returns a summary."""
    key = load_private_key(Path(settings.export.signing_key))
    sel = _select(store, registry, start, end, controls or [])
    head = sel.runs[-1]
    signer = fingerprint(key.public_key())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        w = _Writer(zf)
        w.json("runs.json", [_run_doc(r, *sel.of_run(r)) for r in sel.runs])
        trees = _write_evidence(w, store, sel)
        _write_results(w, store, sel)
        checks, statuses, ncs = _write_registers(w, store, settings, registry, sel)
        attestations = _write_attestations(w, store, sel.controls)
        latest_obs, latest_checks = sel.of_run(head)
        w.write(
            "index.html",
            render_index(
                runs=sel.runs,
                controls=statuses,
                checks=checks,
                check_runs=[c for c in latest_checks if c.check_id in sel.checks],
                store=store,
                trees=trees,
                observations=latest_obs,
                ncs=ncs,
                attestations=attestations,
                fingerprint=signer,
            ),
        )
        w.write(PUBLIC_KEY, public_pem(key.public_key()))
        manifest = {
            "format": FORMAT,
            "created_at": utcnow().isoformat(),
            "agent_version": __version__,
            "period": {"from": start.isoformat() if start else None, "to": end.isoformat() if end else None},
            "controls": sel.controls,
            "signer": {"algorithm": "Ed25519", "fingerprint": signer},
            "chain": {
                "anchor": sel.runs[0].prev_root_hash,
                "head": head.root_hash,
                "runs": [r.root_hash for r in sel.runs],
            },
            "files": w.files,
        }
        body = json.dumps(manifest, indent=1, ensure_ascii=False).encode()
        zf.writestr(MANIFEST, body)
        zf.writestr(SIGNATURE, key.sign(body))
    tmp.replace(out)
    return {
        "bundle": str(out),
        "runs": len(sel.runs),
        "first_run": sel.runs[0].id,
        "last_run": head.id,
        "head": head.root_hash,
        "files": len(w.files) + 2,
        "evidence_files": len(trees),
        "fingerprint": signer,
    }
