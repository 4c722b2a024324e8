"""`annexa export`: a signed evidence bundle an auditor can verify offline.

The zip holds the spine of seals from the first entry to the period's last, the period's runs with
everything they wrote (enough to recompute each seal), the evidence as one NDJSON file per distinct
listing, the result sets, the checks' metadata and logic, the NC register as sealed with its
history, the SoA, the asset inventory, attestations, a browsable index.html, and a manifest of every
file's SHA-256 and size signed with the agent's Ed25519 key. Everything is streamed from the database:
memory stays flat.
"""

from __future__ import annotations

import getpass
import hashlib
import inspect
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlmodel import col

from agent import __version__
from agent.audit.attestations import attestation_document
from agent.audit.controls import control_statuses
from agent.audit.soa import render_csv, soa_rows
from agent.bundle.layout import (
    ATTESTATIONS,
    CHAIN,
    FORMAT,
    MANIFEST,
    NCS,
    PUBLIC_KEY,
    RUNS,
    SIGNATURE,
    evidence_path,
    results_path,
    row_doc,
    run_doc,
    spine_entry,
)
from agent.bundle.report import render_index
from agent.bundle.review import write_reviews
from agent.bundle.selection import Selection, nc_register, register_lists, select_bundle
from agent.bundle.signing import fingerprint, load_private_key, public_pem
from agent.bundle.stage1 import write_scope
from agent.canonical import canonical_json
from agent.config.settings import Settings
from agent.plugin.registry import Registry
from agent.private_files import create_private
from agent.store import Store
from agent.store.schema import (
    Attachment,
    Attestation,
    Blob,
    CheckRun,
    NcTransition,
    NcVersion,
    Observation,
    ResultRow,
    TreeEntry,
)
from agent.store.types import utcnow

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


def _json_string(text: str) -> str:
    """json.dumps for a string, skipping the encoder for the common id that needs no escaping."""
    if text.isprintable() and '"' not in text and "\\" not in text:
        return f'"{text}"'
    return json.dumps(text, ensure_ascii=False)


def _tree_lines(store: Store, tree: str) -> Iterator[bytes]:
    """The listing as NDJSON, a chunk of lines at a time; `data` is the stored canonical JSON, untouched."""
    with store.read() as s:
        rows = s.execute(
            select(col(TreeEntry.resource_id), col(Blob.hash), col(Blob.data))
            .join(Blob, col(Blob.hash) == TreeEntry.blob_hash)
            .where(col(TreeEntry.tree_hash) == tree)
            .order_by(col(TreeEntry.resource_id))
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
        "context": list(spec.context),
        "rationale": spec.rationale,
        "remediation": spec.remediation,
        "params": dict(spec.params),
        "summary": inspect.getdoc(spec.func) or "",
        "logic": logic,
        "module": spec.func.__module__,
    }


def _write_evidence(w: _Writer, store: Store, sel: Selection) -> dict[tuple[str, str], str]:
    trees: dict[tuple[str, str], str] = {}
    for o in sel.rows[Observation]:
        if o.tree_hash and o.source in sel.sources and (o.source, o.tree_hash) not in trees:
            path = evidence_path(o.source, o.tree_hash)
            trees[(o.source, o.tree_hash)] = path
            with w.open(path) as fh:
                for line in _tree_lines(store, o.tree_hash):
                    fh.write(line)
    return trees


def _write_results(w: _Writer, store: Store, sel: Selection) -> None:
    """One canonical JSON row per line: a verifier streams the set's hash without holding it."""
    with store.read() as s:
        for set_hash in sorted({c.result_set for c in sel.rows[CheckRun] if c.check_id in sel.checks}):
            rows = s.execute(
                select(ResultRow).where(ResultRow.set_hash == set_hash).order_by(ResultRow.resource_id)
            ).scalars()
            with w.open(results_path(set_hash)) as fh:
                for r in rows:
                    row = {
                        "resource_id": r.resource_id,
                        "status": r.status,
                        "reason": r.reason,
                        "evidence": r.evidence,
                    }
                    fh.write((canonical_json(row) + "\n").encode())


def _write_attestations(w: _Writer, store: Store, sel: Selection) -> list[dict[str, Any]]:
    docs = []
    with store.read() as s:
        for a in sel.attestations:
            path = f"attachments/{a.attachment}"
            if path not in {f["path"] for f in w.files}:
                w.write(path, s.get_one(Attachment, a.attachment).content)
            docs.append({**attestation_document(a), "path": path, "record": row_doc(a)})
    w.json(ATTESTATIONS, docs)
    return docs


def _write_registers(
    w: _Writer, store: Store, settings: Settings, registry: Registry, sel: Selection
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    """Checks with their logic, control status, the NC register with history, and the SoA."""
    checks = [_check_doc(registry.checks[cid]) for cid in sel.checks]
    w.json("checks.json", checks)
    statuses = [c.document() for c in control_statuses(store, settings, registry, sel.as_of)]
    if sel.controls:
        statuses = [c for c in statuses if c["id"] in sel.controls]
    ncs = nc_register(sel)
    w.json("controls.json", statuses)
    w.json(NCS, ncs)
    soa = soa_rows(store, settings, registry, utcnow(), sel.as_of)
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
    as_of: datetime | None = None,  # the store as it stood then (`export --as-of`): selection.py
    exported_by: str | None = None,  # who exports: named in the manifest, so they cannot review it
) -> dict[str, Any]:
    """Write the bundle (atomically: a `.partial` file renamed at the end); returns a summary."""
    key = load_private_key(Path(settings.export.signing_key))
    sel = select_bundle(store, registry, start, end, controls or [], as_of)
    head = sel.runs[-1]
    signer = fingerprint(key.public_key())
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    with (
        create_private(tmp) as raw,
        zipfile.ZipFile(raw, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1) as zf,
    ):
        w = _Writer(zf)
        w.json(CHAIN, {"spine": [spine_entry(r) for r in sel.spine], "registers": register_lists(store, sel)})
        w.json(
            RUNS,
            [
                run_doc(
                    r,
                    sel.of_run(Observation, r),
                    sel.of_run(CheckRun, r),
                    sel.of_run(NcVersion, r),
                    sel.of_run(NcTransition, r),
                    sel.of_run(Attestation, r),
                )
                for r in sel.runs
            ],
        )
        trees = _write_evidence(w, store, sel)
        _write_results(w, store, sel)
        checks, statuses, ncs = _write_registers(w, store, settings, registry, sel)
        attestations = _write_attestations(w, store, sel)
        from agent.bundle.period_part import write_period  # period.json + period.html (issue 16)

        write_period(w, store, settings, registry, sel, start, end)
        from agent.bundle.oscal import write_oscal  # oscal/ (after the files it links, with their hashes)

        write_oscal(w, store, settings, registry, sel, start=start, end=end)
        write_reviews(w, store, sel)  # reviews.json + reviews.html
        write_scope(w, settings, registry, sel)  # scope.json + scope.html (Stage 1)
        from agent.bundle.samples import write_samples  # samples/, re-derived by verify

        write_samples(w, store, settings, registry, sel, start, end)
        from agent.bundle.inventory_part import write_inventory  # inventory.json + .csv, re-derived by verify

        write_inventory(w, store, settings, registry, sel)
        w.write(
            "index.html",
            render_index(
                runs=sel.runs,
                controls=statuses,
                checks=checks,
                check_runs=[c for c in sel.of_run(CheckRun, head) if c.check_id in sel.checks],
                store=store,
                trees=trees,
                observations=sel.of_run(Observation, head),
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
            "as_of": sel.as_of.isoformat() if sel.as_of else None,  # registers as the store stood then
            "controls": sel.controls,
            "signer": {"algorithm": "Ed25519", "fingerprint": signer},
            "exported_by": exported_by or getpass.getuser(),
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
