"""`annexa verify`: re-check a bundle (or the store itself) offline, naming everything that is off.

A bundle holds: every file's SHA-256 in a manifest signed with Ed25519, and enough of each run to
recompute its root hash from the evidence up (blob -> listing -> observation -> run -> chain).
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from agent.bundle.export import FORMAT, MANIFEST, PUBLIC_KEY, SIGNATURE
from agent.canonical import canonical_json, sha256_hex
from agent.errors import UsageError
from agent.signing import fingerprint, load_public_key, signature_valid
from agent.store import Store
from agent.store.hashing import (
    GENESIS,
    TreeHasher,
    check_run_hash,
    observation_hash,
    result_set_hash,
    run_root,
)
from agent.store.schema import Blob, CheckRun, Observation, ResultRow, Run, TreeEntry

_READ = 1 << 20


@dataclass
class Report:
    problems: list[str] = field(default_factory=list)
    checked_files: int = 0
    runs: int = 0
    records: int = 0
    fingerprint: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def document(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "problems": self.problems,
            "files": self.checked_files,
            "runs": self.runs,
            "records": self.records,
            "fingerprint": self.fingerprint,
        }


def _sha_of(zf: zipfile.ZipFile, name: str) -> str:
    sha = hashlib.sha256()
    with zf.open(name) as fh:
        while chunk := fh.read(_READ):
            sha.update(chunk)
    return sha.hexdigest()


def _check_signature(
    zf: zipfile.ZipFile, names: set[str], manifest_bytes: bytes, pinned: Path | None, r: Report
) -> None:
    for required in (SIGNATURE, PUBLIC_KEY):
        if required not in names:
            r.problems.append(f"missing file {required}")
    if r.problems:
        return
    try:
        bundled = load_public_key(zf.read(PUBLIC_KEY), PUBLIC_KEY)
    except ValueError as exc:
        r.problems.append(f"modified file {PUBLIC_KEY}: {exc}")
        return
    key = bundled
    r.fingerprint = fingerprint(bundled)
    if pinned is not None:
        try:
            key = load_public_key(pinned.read_bytes(), str(pinned))
        except (OSError, ValueError) as exc:
            raise UsageError(f"--public-key {pinned}: {exc}") from None
        if fingerprint(key) != fingerprint(bundled):
            r.problems.append(
                f"{PUBLIC_KEY} was replaced: the bundle carries {fingerprint(bundled)}, "
                f"the expected key is {fingerprint(key)}"
            )
    if not signature_valid(key, zf.read(SIGNATURE), manifest_bytes):
        r.problems.append(f"{SIGNATURE} does not match {MANIFEST} under key {fingerprint(key)}")


def _check_tree(zf: zipfile.ZipFile, path: str, tree: str, count: int, r: Report) -> None:
    hasher = TreeHasher()
    with zf.open(path) as fh:
        for n, raw in enumerate(fh, start=1):
            try:
                line = json.loads(raw)
                rid, digest = line["resource_id"], line["hash"]
                if sha256_hex(canonical_json(line["data"])) != digest:
                    r.problems.append(f"{path}:{n}: record {rid!r} does not match its hash")
                hasher.add(rid, digest)
            except (ValueError, KeyError, TypeError) as exc:
                r.problems.append(f"{path}:{n}: unreadable record ({exc})")
                return
    r.records += hasher.count
    if hasher.hexdigest() != tree or hasher.count != count:
        r.problems.append(f"{path}: listing does not match its observation (hash or record count)")


def _check_runs(zf: zipfile.ZipFile, names: set[str], manifest: dict[str, Any], r: Report) -> None:
    try:
        runs = json.loads(zf.read("runs.json"))
    except (KeyError, ValueError) as exc:
        r.problems.append(f"runs.json unreadable: {exc}")
        return
    r.runs = len(runs)
    chain = manifest.get("chain", {})
    prev = chain.get("anchor")
    for run in runs:
        label = f"run {run.get('id')}"
        if run["prev_root_hash"] != prev:
            r.problems.append(f"{label}: not linked to the previous run's root (chain broken)")
        obs_hashes = []
        for obs in run["observations"]:
            if observation_hash(obs, run["uid"]) != obs["hash"]:
                r.problems.append(
                    f"{label}: observation {obs['source']} {obs['scope']} does not match its hash"
                )
            obs_hashes.append(obs["hash"])
            path = f"evidence/{obs['source']}/{obs['tree_hash']}.ndjson"
            if obs["tree_hash"] and path in names:
                _check_tree(zf, path, obs["tree_hash"], obs["record_count"], r)
        checks = []
        for cr in run["check_runs"]:
            if (
                check_run_hash(run["uid"], cr["check_id"], cr["scope"], cr["evaluated_at"], cr["result_set"])
                != cr["hash"]
            ):
                r.problems.append(
                    f"{label}: check run {cr['check_id']} {cr['scope']} does not match its hash"
                )
            checks.append(cr["hash"])
        if run_root(run, run["prev_root_hash"], obs_hashes, checks) != run["root_hash"]:
            r.problems.append(f"{label}: root hash does not match its observations and results")
        prev = run["root_hash"]
    if [run["root_hash"] for run in runs] != chain.get("runs") or prev != chain.get("head"):
        r.problems.append("runs.json does not match the chain named in the manifest")


def _check_result_sets(zf: zipfile.ZipFile, names: set[str], r: Report) -> None:
    for path in sorted(n for n in names if n.startswith("results/")):
        try:
            rows = json.loads(zf.read(path))
        except ValueError as exc:
            r.problems.append(f"{path}: unreadable ({exc})")
            continue
        if result_set_hash(rows) != path.removeprefix("results/").removesuffix(".json"):
            r.problems.append(f"{path}: results do not match their hash")


def verify_bundle(path: Path, pinned: Path | None = None) -> Report:
    r = Report()
    if not path.is_file():
        raise UsageError(f"{path}: no such bundle")
    try:
        zf = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        r.problems.append(f"{path} is not a readable zip archive")
        return r
    with zf:
        names = set(zf.namelist())
        if MANIFEST not in names:
            r.problems.append(f"missing file {MANIFEST}")
            return r
        manifest_bytes = zf.read(MANIFEST)
        _check_signature(zf, names, manifest_bytes, pinned, r)
        try:
            manifest = json.loads(manifest_bytes)
            listed = {f["path"]: f for f in manifest["files"]}
        except (ValueError, KeyError, TypeError) as exc:
            r.problems.append(f"{MANIFEST} unreadable: {exc}")
            return r
        if manifest.get("format") != FORMAT:
            r.problems.append(f"{MANIFEST}: unknown format {manifest.get('format')!r}")
        if r.fingerprint and manifest.get("signer", {}).get("fingerprint") != r.fingerprint:
            r.problems.append(
                f"{MANIFEST} names signer {manifest.get('signer')}, the bundle's key is {r.fingerprint}"
            )
        for name in sorted(set(listed) - names):
            r.problems.append(f"missing file {name}")
        for name in sorted(names - set(listed) - {MANIFEST, SIGNATURE}):
            r.problems.append(f"extra file {name} (not in the manifest)")
        for name in sorted(set(listed) & names):
            r.checked_files += 1
            if _sha_of(zf, name) != listed[name]["sha256"]:
                r.problems.append(f"modified file {name}")
        _check_runs(zf, names, manifest, r)
        _check_result_sets(zf, names, r)
    return r


def verify_store(store: Store) -> Report:
    """Recompute every sealed run's root from the rows beneath it and walk the chain."""
    r = Report()
    with store.read() as s:
        sealed = list(s.execute(select(Run).where(Run.root_hash.is_not(None)).order_by(Run.id)).scalars())  # type: ignore[union-attr]
        by_prev = {run.prev_root_hash: run for run in sealed}
        link, chained = GENESIS, 0
        while link in by_prev:
            link = by_prev[link].root_hash  # type: ignore[assignment]
            chained += 1
        if chained != len(sealed):
            r.problems.append(
                f"{len(sealed) - chained} sealed run(s) are not on the chain from the first run"
            )
        trees_ok: dict[str, bool] = {}
        for run in sealed:
            r.runs += 1
            label = f"run {run.id}"
            observations = s.execute(select(Observation).where(Observation.run_id == run.id)).scalars().all()
            for obs in observations:
                if observation_hash(obs.model_dump(), run.uid) != obs.hash:
                    r.problems.append(
                        f"{label}: observation {obs.source} {obs.scope} does not match its hash"
                    )
                if obs.tree_hash and obs.tree_hash not in trees_ok:
                    trees_ok[obs.tree_hash] = _store_tree_ok(s, obs.tree_hash, r)
            check_runs = s.execute(select(CheckRun).where(CheckRun.run_id == run.id)).scalars().all()
            for cr in check_runs:
                rows = s.execute(
                    select(ResultRow)
                    .where(ResultRow.set_hash == cr.result_set)
                    .order_by(ResultRow.resource_id)
                ).scalars()
                docs = [
                    {
                        "resource_id": x.resource_id,
                        "status": x.status,
                        "reason": x.reason,
                        "evidence": x.evidence,
                    }
                    for x in rows
                ]
                if (
                    result_set_hash(docs) != cr.result_set
                    or check_run_hash(run.uid, cr.check_id, cr.scope, cr.evaluated_at, cr.result_set)
                    != cr.hash
                ):
                    r.problems.append(
                        f"{label}: results of {cr.check_id} {cr.scope} do not match their hashes"
                    )
            root = run_root(
                run.model_dump(),
                run.prev_root_hash or "",
                [o.hash for o in observations],
                [c.hash for c in check_runs],
            )
            if root != run.root_hash:
                r.problems.append(f"{label}: root hash does not match its observations and results")
    return r


def _store_tree_ok(s: Any, tree: str, r: Report) -> bool:
    hasher = TreeHasher()
    rows = s.execute(
        select(TreeEntry.resource_id, Blob.hash, Blob.data)
        .join(Blob, Blob.hash == TreeEntry.blob_hash)
        .where(TreeEntry.tree_hash == tree)
        .order_by(TreeEntry.resource_id)
        .execution_options(yield_per=5000)
    )
    ok = True
    for rid, digest, data in rows:
        if sha256_hex(data) != digest:
            r.problems.append(f"evidence {digest} (resource {rid!r}) does not match its hash")
            ok = False
        hasher.add(rid, digest)
    r.records += hasher.count
    if hasher.hexdigest() != tree:
        r.problems.append(f"listing {tree} does not match its entries")
        ok = False
    return ok
