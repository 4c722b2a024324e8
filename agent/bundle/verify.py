"""`annexa verify BUNDLE`: re-check a bundle offline, naming everything that is off.

Order matters against a hostile archive: every entry is vetted first (agent/bundle/zipsafe.py),
then the signature over the manifest's bytes is checked before the manifest is parsed, and every
other file is streamed within the size the signed manifest declares, hashed, and only then
interpreted: the spine of seals from the first entry, the period's runs from their evidence up,
the NC register and attestations against the seals that commit them.
"""

from __future__ import annotations

import functools
import json
import os
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from agent.bundle.layout import (
    ATTESTATIONS,
    CHAIN,
    MANIFEST,
    NCS,
    PUBLIC_KEY,
    READABLE_FORMATS,
    RUNS,
    SIGNATURE,
)
from agent.bundle.shapes import shape_problem
from agent.bundle.signing import fingerprint, load_public_key, signature_valid
from agent.bundle.streams import Listing, ResultSet, check_listing, check_results
from agent.bundle.verify_chain import (
    RunChecker,
    check_attestations,
    check_nc_register,
    check_register_lists,
    check_spine,
)
from agent.bundle.verify_review import check_binding, check_reviews
from agent.bundle.zipsafe import BoundedReader, BundleError, Hashed, open_archive, read_bounded, vet
from agent.errors import UsageError
from agent.proof import Report
from agent.store.chain import SealKeys

MAX_MANIFEST = 64 << 20
MAX_SMALL = 64 << 10
_DOCS = frozenset({CHAIN, RUNS, NCS, ATTESTATIONS, "checks.json"})
UNPINNED = (
    "checked against the key inside the bundle only: this proves the bundle is self-consistent, not "
    "who made it; pass --public-key with the key the auditee announced"
)


class _File(BaseModel):
    path: str
    sha256: str
    size: int


class _Chain(BaseModel):
    anchor: str | None
    head: str
    runs: list[str]


class _Manifest(BaseModel):
    format: str
    signer: dict[str, str]
    chain: _Chain
    controls: list[str] = []
    files: list[_File]


@dataclass
class _Opened:
    zf: zipfile.ZipFile
    entries: dict[str, zipfile.ZipInfo]
    manifest: _Manifest
    keys: SealKeys
    docs: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)
    listings: dict[str, Listing] = field(default_factory=dict)
    results: dict[str, ResultSet] = field(default_factory=dict)


def verify_bundle(path: Path, pinned: Path | None = None, since: Path | None = None) -> Report:
    r = Report()
    key = _pinned_key(pinned)
    spine = _guarded(path, r, lambda b: _verify(b, r), key)
    if since is not None and spine is not None:
        old = Report()
        old_spine = _guarded(since, old, lambda b: _read_chain(b, old), key or _bundle_key(spine))
        r.problems.extend(f"{since}: {p}" for p in old.problems)
        if old_spine is not None:
            _extends(since, [e["root"] for e in old_spine[0]], [e["root"] for e in spine[0]], r)
            check_binding(path, since, r)  # the reviews of `since` this bundle carries are of it
    return r


def pinned_keys(pinned: Path) -> SealKeys:
    """An auditor's pinned key, to check the store's seals with (`verify --store --public-key`)."""
    return SealKeys(public=_pinned_key(pinned))


def _pinned_key(pinned: Path | None) -> Any:
    if pinned is None:
        return None
    try:
        return load_public_key(pinned.read_bytes(), str(pinned))
    except (OSError, ValueError) as exc:
        raise UsageError(f"--public-key {pinned}: {exc}") from None


def _bundle_key(spine: tuple[list[dict[str, Any]], Any]) -> Any:
    return spine[1]


def _guarded(path: Path, r: Report, body: Callable[[_Opened], Any], key: Any) -> Any:
    """Open, vet and check the signature of a bundle, then run `body`; every defect of the archive
    or its content becomes a named problem, never a crash."""
    if not path.is_file():
        raise UsageError(f"{path}: no such bundle")
    try:
        with path.open("rb") as fh, open_archive(fh) as zf:
            opened = _open_signed(zf, vet(zf, fh), key, r)
            return None if opened is None else body(opened)
    except BundleError as exc:
        r.problems.append(str(exc))
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError) as exc:
        r.problems.append(f"{path}: damaged archive ({exc})")
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        r.problems.append(f"{path}: malformed content ({type(exc).__name__}: {exc})")
    return None


def _open_signed(
    zf: zipfile.ZipFile, entries: dict[str, zipfile.ZipInfo], key: Any, r: Report
) -> _Opened | None:
    missing = [n for n in (MANIFEST, SIGNATURE, PUBLIC_KEY) if n not in entries]
    if missing:
        r.problems.extend(f"missing file {n}" for n in missing)
        return None
    body = read_bounded(zf, MANIFEST, MAX_MANIFEST)
    try:
        bundled = load_public_key(read_bounded(zf, PUBLIC_KEY, MAX_SMALL), PUBLIC_KEY)
    except ValueError as exc:
        r.problems.append(f"modified file {PUBLIC_KEY}: {exc}")
        return None
    r.fingerprint = fingerprint(bundled)
    if key is None:
        key = bundled
        r.notes.append(UNPINNED)
    elif fingerprint(key) != r.fingerprint:
        r.problems.append(
            f"{PUBLIC_KEY} was replaced: the bundle carries {r.fingerprint}, the expected key is {fingerprint(key)}"
        )
    if not signature_valid(key, read_bounded(zf, SIGNATURE, MAX_SMALL), body):
        r.problems.append(
            f"{SIGNATURE} does not match {MANIFEST} under key {fingerprint(key)}: nothing else was read"
        )
        return None
    try:
        manifest = _Manifest.model_validate_json(body)
    except ValidationError as exc:
        first = exc.errors()[0]
        r.problems.append(f"{MANIFEST}: {'.'.join(map(str, first['loc'])) or 'document'}: {first['msg']}")
        return None
    if manifest.format not in READABLE_FORMATS:
        readable = ", ".join(sorted(READABLE_FORMATS))
        r.problems.append(f"{MANIFEST}: unknown format {manifest.format!r} (this verifier reads {readable})")
        return None
    if manifest.signer.get("fingerprint") != r.fingerprint:
        r.problems.append(f"{MANIFEST} names signer {manifest.signer}, the bundle's key is {r.fingerprint}")
    return _Opened(zf, entries, manifest, SealKeys(public=key))


MAX_DOCUMENT = 64 << 20  # a JSON document is parsed whole
PARALLEL_FROM = 8 << 20  # listings and result sets this large are read in worker processes


@dataclass
class _Read:
    """One file streamed: its hash and size, and what it holds (a listing, a result set, or the
    bytes of a JSON document)."""

    hashed: Hashed
    content: Listing | ResultSet | bytes | None


def _read(zf: zipfile.ZipFile, name: str, size: int) -> _Read:
    if name in _DOCS and size > MAX_DOCUMENT:
        raise BundleError(f"{name} is {size} bytes, more than the {MAX_DOCUMENT} this verifier parses")
    reader = BoundedReader(zf, name, size)
    content: Listing | ResultSet | bytes | None = None
    if name.startswith("evidence/"):
        content = check_listing(name, reader.lines())
    elif name.startswith("results/"):
        content = check_results(name, reader.lines())
    elif name in _DOCS:
        content = reader.read_all()
    return _Read(reader.finish(), content)


@functools.cache
def _worker_archive(path: str) -> zipfile.ZipFile:
    """A worker process's own handle on the bundle, opened once. It reads entries the parent
    vetted, by name, and like the parent bounds and hashes every byte against the signed manifest."""
    return open_archive(open(path, "rb"))  # open for as long as the worker lives


def _read_in_worker(path: str, name: str, size: int) -> _Read:
    return _read(_worker_archive(path), name, size)


def _read_files(zf: zipfile.ZipFile, sizes: dict[str, int]) -> dict[str, _Read]:
    """Every file, by name: the large listings and result sets spread over worker processes, one
    per core and largest first, while this process reads the rest."""
    large = sorted(
        (n for n, size in sizes.items() if size >= PARALLEL_FROM and n.startswith(("evidence/", "results/"))),
        key=lambda n: -sizes[n],
    )
    workers = min(len(large), os.cpu_count() or 1)
    if workers < 2 or zf.filename is None:
        return {n: _read(zf, n, size) for n, size in sizes.items()}
    pool = ProcessPoolExecutor(workers)
    try:
        pending = {n: pool.submit(_read_in_worker, zf.filename, n, sizes[n]) for n in large}
        here = {n: _read(zf, n, size) for n, size in sizes.items() if n not in pending}
        return here | {n: future.result() for n, future in pending.items()}
    finally:
        pool.shutdown(cancel_futures=True)


def _scan(b: _Opened, r: Report, only: set[str] | None = None) -> None:
    """Stream every listed file once: hash it against the manifest and read what it holds."""
    listed = {f.path: f for f in b.manifest.files}
    if only is None:
        for name in sorted(set(listed) - set(b.entries)):
            r.problems.append(f"missing file {name}")
        for name in sorted(set(b.entries) - set(listed) - {MANIFEST, SIGNATURE}):
            r.problems.append(f"extra file {name} (not in the manifest)")
    names = sorted(n for n in set(listed) & set(b.entries) if only is None or n in only)
    reads = _read_files(b.zf, {n: listed[n].size for n in names})
    bodies: dict[str, bytes] = {}
    for name in names:
        declared, read = listed[name], reads[name]
        r.checked_files += 1
        b.digests[name] = read.hashed.sha256
        if read.hashed.sha256 != declared.sha256 or read.hashed.size != declared.size:
            r.problems.append(f"modified file {name}")
        if isinstance(read.content, Listing):
            b.listings[name] = read.content
        elif isinstance(read.content, ResultSet):
            b.results[name] = read.content
        elif read.content is not None:
            bodies[name] = read.content
    streamed: list[Listing | ResultSet] = [*b.listings.values(), *b.results.values()]
    for found in streamed:
        r.problems.extend(found.problems)
    for name, body in bodies.items():
        if (problem := shape_problem(name, body)) is not None:
            r.problems.append(problem)
            continue
        try:
            b.docs[name] = json.loads(body)
        except (ValueError, RecursionError) as exc:
            r.problems.append(f"{name}: unreadable ({exc})")


def _verify(b: _Opened, r: Report) -> tuple[list[dict[str, Any]], Any]:
    _scan(b, r)
    missing = _DOCS - set(b.docs)
    if missing:
        raise BundleError(f"cannot re-derive the chain without {', '.join(sorted(missing))}")
    chain, runs, checks = b.docs[CHAIN], b.docs[RUNS], b.docs["checks.json"]
    spine = check_spine(chain["spine"], b.keys, r)
    m = b.manifest.chain
    period = [d["root"] for d in runs]
    roots = [e["root"] for e in chain["spine"]]
    if period != m.runs or not roots or roots[-1] != m.head or roots[-len(period) :] != period:
        r.problems.append("runs.json does not match the chain named in the manifest")
    elif (runs[0]["prev"] if runs else None) != m.anchor:
        r.problems.append("runs.json does not start at the manifest's anchor")
    checker = RunChecker(
        r,
        spine,
        b.listings.get,
        b.results.get,
        sources={n for c in checks for n in c["needs"]},
        checks={c["id"] for c in checks},
    )
    for doc in runs:
        checker.run(doc)
    registers = chain["registers"]
    check_register_lists(registers, spine, r)
    check_nc_register(b.docs[NCS], registers, spine, r)
    check_attestations(b.docs[ATTESTATIONS], registers, spine, b.digests, r)
    from agent.bundle.verify_period import check_period  # period.json re-derived from the bundle

    check_period(b.zf, b.manifest.files, b.docs, r)
    check_reviews(b.zf, b.manifest.files, spine, r)
    from agent.bundle.samples import check_samples  # re-derives samples/ from the bundle's evidence

    check_samples(b.zf, {f.path: f.size for f in b.manifest.files}, b.docs, m.head, r)
    from agent.bundle.inventory_part import check_inventory  # inventory.json re-derived from the evidence

    check_inventory(b.zf, b.manifest, b.docs, r)
    r.runs = len(runs)
    r.records = sum(x.count for x in b.listings.values())
    r.head = m.head
    return chain["spine"], b.keys.public


def _read_chain(b: _Opened, r: Report) -> tuple[list[dict[str, Any]], Any] | None:
    """An older bundle, for --since: only its signed spine is needed."""
    _scan(b, r, only={CHAIN})
    if CHAIN not in b.docs:
        r.problems.append(f"has no {CHAIN}: nothing to compare the newer chain with")
        return None
    return b.docs[CHAIN]["spine"], b.keys.public


def _extends(old: Path, old_roots: list[str], new_roots: list[str], r: Report) -> None:
    """The newer chain must hold the older one entry for entry, then go on from its head."""
    for n, (a, b) in enumerate(zip(old_roots, new_roots, strict=False), start=1):
        if a != b:
            r.problems.append(
                f"the chain does not extend {old}: they part at entry {n} (history rewritten after {old} was made)"
            )
            return
    if len(new_roots) < len(old_roots):
        r.problems.append(
            f"the chain does not extend {old}: its head {old_roots[-1]} is missing (the chain was cut)"
        )
