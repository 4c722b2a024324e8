"""Verifying the reviews a bundle carries (reviews.json), and their binding to the bundle reviewed.

Within one bundle: each review re-hashes to what its chain entry sealed, every entry of the spine that
seals reviews has exactly those reviews in reviews.json (a rejection cannot be left out), each names a
chain head earlier on the same chain, and none is by the bundle's own exporter. Given the reviewed
bundle too (`--since`), the reviews that name its head must name its manifest's digest.
"""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

from agent.bundle.review import DECISIONS, REVIEWS, manifest_bytes, same_person
from agent.bundle.verify_chain import part
from agent.bundle.zipsafe import BoundedReader, BundleError, open_archive, read_bounded, vet
from agent.errors import AnnexaError
from agent.proof import Report
from agent.store.hashing import review_hash, reviews_part

MAX_REVIEWS = 64 << 20  # parsed whole, as the other documents


class _Review(BaseModel):
    model_config = ConfigDict(strict=True)

    id: int
    bundle_digest: str
    bundle_head: str
    exporter: str
    decision: str
    actor: str
    note: Any
    at: Any
    run_id: int
    hash: str


_SHAPE = TypeAdapter(list[_Review])


class Listed(Protocol):
    """A file as the signed manifest lists it."""

    @property
    def path(self) -> str: ...

    @property
    def size(self) -> int: ...


def _parse(body: bytes, r: Report) -> list[dict[str, Any]]:
    try:
        _SHAPE.validate_json(body, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        r.problems.append(f"{REVIEWS}: {'.'.join(map(str, first['loc'])) or 'document'}: {first['msg']}")
        return []
    docs: list[dict[str, Any]] = json.loads(body)
    return docs


def check_reviews(
    zf: zipfile.ZipFile, files: Iterable[Listed], spine: dict[int, dict[str, Any]], r: Report
) -> None:
    """reviews.json against the spine (already re-derived and signature-checked, by run id in chain
    order). A bundle without reviews.json (made before reviews existed) may have no review entry."""
    declared = {f.path: f.size for f in files}
    docs: list[dict[str, Any]] = []
    if REVIEWS in declared:
        if REVIEWS not in zf.NameToInfo:
            return  # named by the manifest check already
        if declared[REVIEWS] > MAX_REVIEWS:
            r.problems.append(
                f"{REVIEWS} is {declared[REVIEWS]} bytes, more than the {MAX_REVIEWS} this verifier parses"
            )
            return
        reader = BoundedReader(zf, REVIEWS, declared[REVIEWS])
        try:
            docs = _parse(reader.read_all(), r)
        finally:
            reader.close()
    _check(docs, spine, r)


def _check(docs: list[dict[str, Any]], spine: dict[int, dict[str, Any]], r: Report) -> None:
    place = {run_id: n for n, run_id in enumerate(spine)}
    root_place = {e["root"]: n for n, e in enumerate(spine.values())}
    sealed: dict[int, list[str]] = {}
    for doc in docs:
        label = f"{REVIEWS}: review {doc['id']}"
        entry = spine.get(doc["run_id"])
        if entry is None or review_hash(doc, entry["identity"]["uid"]) != doc["hash"]:
            r.problems.append(f"{label}: not sealed (edited or inserted)")
        sealed.setdefault(doc["run_id"], []).append(doc["hash"])
        if doc["decision"] not in DECISIONS:
            r.problems.append(f"{label}: decision {doc['decision']!r} is not one of {', '.join(DECISIONS)}")
        if same_person(doc["exporter"], doc["actor"]):
            r.problems.append(f"{label}: made by the reviewed bundle's own exporter {doc['exporter']!r}")
        if root_place.get(doc["bundle_head"], len(spine)) >= place.get(doc["run_id"], -1):
            r.problems.append(f"{label}: the bundle it reviews has a chain head not earlier on this chain")
    for run_id, entry in spine.items():
        seal = entry["seal"]
        if seal is not None and reviews_part(seal) != part(sealed.get(run_id, [])):
            r.problems.append(
                f"chain entry {run_id} seals reviews that {REVIEWS} does not hold as sealed (left out, added or edited)"
            )


def _reviews_in(bundle: Path) -> list[dict[str, Any]]:
    with bundle.open("rb") as fh, open_archive(fh) as zf:
        if REVIEWS not in vet(zf, fh):
            return []
        docs: list[dict[str, Any]] = json.loads(read_bounded(zf, REVIEWS, MAX_REVIEWS))
        return docs


def check_binding(bundle: Path, reviewed: Path, r: Report) -> None:
    """With `verify BUNDLE --since REVIEWED`: the reviews in BUNDLE that name REVIEWED (by its chain
    head or manifest digest) must be of exactly REVIEWED's manifest; at least one must match."""
    try:
        body = manifest_bytes(reviewed)
        head = json.loads(body)["chain"]["head"]
        docs = _reviews_in(bundle)
    except (AnnexaError, OSError, BundleError, zipfile.BadZipFile, KeyError, TypeError, ValueError) as exc:
        r.problems.append(f"cannot compare the reviews with {reviewed}: {type(exc).__name__}: {exc}")
        return
    digest = hashlib.sha256(body).hexdigest()
    naming = [
        d
        for d in docs
        if isinstance(d, dict) and (d.get("bundle_head") == head or d.get("bundle_digest") == digest)
    ]
    if not naming:
        r.notes.append(f"no review in {REVIEWS} is of {reviewed}")
        return
    matching = [d for d in naming if d.get("bundle_digest") == digest and d.get("bundle_head") == head]
    if not matching:
        ids = ", ".join(str(d.get("id")) for d in naming)
        r.problems.append(
            f"{reviewed} is not the bundle reviewed: review(s) {ids} name its chain head but another "
            f"manifest (its manifest.json has SHA-256 {digest}: edited or re-exported after the review)"
        )
        return
    for d in matching:
        r.notes.append(f"review {d.get('id')} ({d.get('decision')} by {d.get('actor')}) is of {reviewed}")
    for d in naming:
        if d not in matching:
            r.notes.append(f"review {d.get('id')} is of another export with the same chain head")
